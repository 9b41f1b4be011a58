/**
 * The resource the workers protect: a tiny HTTP store holding one counter. A write must carry
 * the writer's fencing token, and the store refuses any token lower than the highest it has
 * accepted. That check is what makes the lock safe: a worker that stalled while holding the lock
 * (a long GC pause, a frozen VM) and wakes up after another worker took over is turned away,
 * even though it still believes it holds the lock.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class FencedStore {
  /** The counter's current value. */
  value = 0;
  /** How many writes were refused for a stale token. */
  rejected = 0;
  #highest = -1n;
  readonly #server: Server = createServer((req, res) => {
    void this.#handle(req).then(
      ([status, body]) => res.writeHead(status, { 'content-type': 'application/json' }).end(body),
      () => res.writeHead(400).end(),
    );
  });

  /** Starts listening on `port` (default: a free one) on loopback; resolves with the base URL. */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  async #handle(req: IncomingMessage): Promise<[number, string]> {
    if (req.url !== '/counter') return [404, '{}'];
    if (req.method === 'GET') return [200, JSON.stringify({ value: this.value })];
    if (req.method !== 'PUT') return [405, '{}'];
    const token = BigInt(String(req.headers['fencing-token']));
    let body = '';
    for await (const chunk of req) body += String(chunk);
    if (token < this.#highest) {
      this.rejected++;
      return [
        409,
        JSON.stringify({ error: 'stale fencing token', highest: String(this.#highest) }),
      ];
    }
    this.#highest = token;
    this.value = (JSON.parse(body) as { value: number }).value;
    return [200, '{}'];
  }
}
