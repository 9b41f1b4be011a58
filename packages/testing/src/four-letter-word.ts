import { connect } from 'node:net';
import { FourLetterWordError } from './errors.js';

/** Options of {@link fourLetterWord}. */
export interface FourLetterWordOptions {
  /**
   * Socket timeout in milliseconds (default 2000). Always bounded: a probe sent while a server
   * is starting has been seen to hang with neither a reply nor a close.
   */
  timeout?: number;
}

/**
 * Sends a four-letter-word command (`srvr`, `mntr`, `cons`, `ruok`, …) to one server and
 * resolves with its whole answer. Each call opens and closes its own TCP connection; the server
 * must allow the command (`4lw.commands.whitelist`, which servers started by this package set to
 * `*`).
 *
 * @param address `host:port` of one server (a connect string's first host is used; a chroot is
 *   ignored).
 * @throws {@link FourLetterWordError} on refusal, reset or timeout.
 * @example
 * ```ts
 * const text = await fourLetterWord('127.0.0.1:2181', 'srvr');
 * ```
 */
export function fourLetterWord(
  address: string,
  command: string,
  options: FourLetterWordOptions = {},
): Promise<string> {
  const { timeout = 2000 } = options;
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    let settled = false;
    const fail = (reason: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(
        new FourLetterWordError(
          command,
          address,
          reason,
          cause === undefined ? undefined : { cause },
        ),
      );
    };
    socket.setTimeout(timeout, () => fail(`no complete answer within ${timeout} ms`));
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => fail(error.message, error));
    // The server closes the connection once it has written the whole answer.
    socket.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/**
 * Parses the answer of the `mntr` command (`key<TAB>value` lines) into an object. Numeric values
 * become numbers; everything else (`zk_version`, `zk_server_state`) stays a string. Keys keep the
 * server's names, e.g. `zk_packets_received`, `zk_znode_count`.
 */
export function parseMntr(text: string): Record<string, number | string> {
  const result: Record<string, number | string> = {};
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const key = line.slice(0, tab).trim();
    const raw = line.slice(tab + 1).trim();
    result[key] = /^-?\d+(\.\d+)?(E-?\d+)?$/i.test(raw) ? Number(raw) : raw;
  }
  return result;
}

/** Splits `host:port` (or the first host of a connect string, chroot dropped). */
export function parseAddress(address: string): { host: string; port: number } {
  const first = address.split(',')[0]?.split('/')[0] ?? '';
  const colon = first.lastIndexOf(':');
  const host = colon > 0 ? first.slice(0, colon).replace(/^\[|\]$/g, '') : first;
  const port = colon > 0 ? Number(first.slice(colon + 1)) : 2181;
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TypeError(`Not a host:port address: '${address}'`);
  }
  return { host, port };
}
