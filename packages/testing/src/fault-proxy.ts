import { connect, createServer, type Server, type Socket } from 'node:net';
import { parseAddress } from './four-letter-word.js';

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /**
   * What to proxy: `host:port`, or a whole connect string (`h1:p1,h2:p2/chroot`), in which case
   * there is one listener per server and the chroot is kept in {@link FaultProxy.connectString}.
   */
  target: string;
}

type Side = 'client' | 'upstream';

/** What a link does with traffic: forward it, or hold it back in both directions. */
type LinkMode = 'forward' | 'partition';

/** One client connection and its upstream counterpart. */
interface Pipe {
  client: Socket;
  upstream: Socket | undefined;
  /** Bytes held during a partition, delivered in order on heal. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** A side closed or failed during a partition; applied to the other side on heal. */
  pendingEnd: { side: Side; abrupt: boolean } | undefined;
}

/** One listener in front of one server. */
class Link {
  /** The server's address. */
  readonly target: { host: string; port: number };
  /** The proxy's own listening port. */
  readonly port: number;
  readonly server: Server;
  readonly pipes = new Set<Pipe>();
  mode: LinkMode = 'forward';

  constructor(target: { host: string; port: number }, port: number, server: Server) {
    this.target = target;
    this.port = port;
    this.server = server;
  }
}

/**
 * A TCP proxy on 127.0.0.1 between clients and ZooKeeper servers, to inject network faults that
 * a real deployment sees: silence, resets, and recovery.
 *
 * - {@link partition} is a black hole: connections stay open, new ones are accepted, but no byte
 *   passes in either direction and no close is passed on. A ZooKeeper client notices only by its
 *   own timers (after 2/3 of the session timeout), as with a real network split or a dead host.
 * - {@link heal} forwards again, and first delivers what was held back, in order, as TCP
 *   retransmission would after a short outage. If a side gave up meanwhile (the client timed out
 *   and closed its socket), that close reaches the other side now. A partition shorter than the
 *   client's timeout is therefore invisible except for the delay; a longer one costs the
 *   connection, and one longer than the session timeout costs the session.
 * - {@link drop} resets every open connection at once (RST to both sides); the client reconnects
 *   at once and keeps its session.
 *
 * Methods take an optional server index to affect one server of a multi-server target only.
 *
 * @example
 * ```ts
 * await using proxy = await FaultProxy.start({ target: server.connectString });
 * const client = new ZkClient(proxy.connectString, { sessionTimeout: 4000 });
 * await client.start();
 * proxy.partition();
 * await waitFor(() => client.state === 'suspended');
 * proxy.heal();
 * ```
 */
export class FaultProxy implements AsyncDisposable {
  /** The proxy's listeners, `127.0.0.1:<port>` each, comma-separated, plus the target's chroot. */
  readonly connectString: string;
  /** The proxy's listening ports, one per target server, in the target's order. */
  readonly ports: readonly number[];

  readonly #links: readonly Link[];
  #closed = false;

  private constructor(links: readonly Link[], chroot: string) {
    this.#links = links;
    this.ports = links.map((link) => link.port);
    this.connectString = links.map((link) => `127.0.0.1:${link.port}`).join(',') + chroot;
  }

  /**
   * Starts one listener per target server on a free loopback port.
   *
   * @param options the target, or the target string itself.
   */
  static async start(options: FaultProxyOptions | string): Promise<FaultProxy> {
    const target = typeof options === 'string' ? options : options.target;
    const slash = target.indexOf('/');
    const hosts = (slash === -1 ? target : target.slice(0, slash)).split(',');
    const chroot = slash === -1 ? '' : target.slice(slash);
    const links: Link[] = [];
    try {
      for (const host of hosts) {
        links.push(await listen(parseAddress(host)));
      }
    } catch (error) {
      await Promise.all(links.map((link) => closeLink(link)));
      throw error;
    }
    return new FaultProxy(links, chroot);
  }

  /** Number of client connections currently open through the proxy (all servers). */
  get connections(): number {
    return this.#links.reduce((sum, link) => sum + link.pipes.size, 0);
  }

  /** Black-holes traffic (to all servers, or to server `index`) until {@link heal}. */
  partition(index?: number): void {
    for (const link of this.#select(index)) link.mode = 'partition';
  }

  /**
   * Ends a partition: delivers the bytes held back, passes on closes that happened meanwhile, and
   * forwards again. Connections accepted during the partition are connected upstream now.
   */
  heal(index?: number): void {
    for (const link of this.#select(index)) {
      if (link.mode === 'forward') continue;
      link.mode = 'forward';
      for (const pipe of [...link.pipes]) flush(link, pipe);
    }
  }

  /**
   * Resets every open connection (RST to both ends), like a NAT or load balancer forgetting its
   * state. New connections are accepted as usual (forwarded, or held if partitioned).
   */
  drop(index?: number): void {
    for (const link of this.#select(index)) {
      for (const pipe of [...link.pipes]) destroyPipe(link, pipe);
    }
  }

  /** Stops listening and resets every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#links.map((link) => closeLink(link)));
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #select(index: number | undefined): readonly Link[] {
    if (index === undefined) return this.#links;
    const link = this.#links[index];
    if (link === undefined) {
      throw new RangeError(`No proxied server ${index} (there are ${this.#links.length})`);
    }
    return [link];
  }
}

async function listen(target: { host: string; port: number }): Promise<Link> {
  const server = createServer({ noDelay: true });
  const listening = new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
      else resolve(address.port);
    });
  });
  const link = new Link(target, await listening, server);
  server.on('connection', (client) => accept(link, client));
  return link;
}

function accept(link: Link, client: Socket): void {
  const pipe: Pipe = {
    client,
    upstream: undefined,
    held: { toUpstream: [], toClient: [] },
    pendingEnd: undefined,
  };
  link.pipes.add(pipe);
  client.on('data', (chunk: Buffer) => {
    if (link.mode === 'forward' && pipe.upstream !== undefined) pipe.upstream.write(chunk);
    else pipe.held.toUpstream.push(chunk);
  });
  client.on('error', () => sideGone(link, pipe, 'client', true));
  client.on('close', (hadError) => sideGone(link, pipe, 'client', hadError));
  // During a partition even the connection to the server is held back: the client sees an open
  // socket that never answers.
  if (link.mode === 'forward') connectUpstream(link, pipe);
}

function connectUpstream(link: Link, pipe: Pipe): void {
  const upstream = connect({ ...link.target, noDelay: true });
  pipe.upstream = upstream;
  upstream.on('data', (chunk: Buffer) => {
    if (link.mode === 'forward') pipe.client.write(chunk);
    else pipe.held.toClient.push(chunk);
  });
  upstream.on('error', () => sideGone(link, pipe, 'upstream', true));
  upstream.on('close', (hadError) => sideGone(link, pipe, 'upstream', hadError));
}

/**
 * One side closed or failed: mirror it on the other side now, or on heal if partitioned. A clean
 * close is passed on as a clean close (after any data still queued), a failure as a reset.
 */
function sideGone(link: Link, pipe: Pipe, side: Side, abrupt: boolean): void {
  if (!link.pipes.has(pipe)) return;
  if (link.mode === 'partition') {
    pipe.pendingEnd ??= { side, abrupt };
    return;
  }
  if (abrupt) {
    destroyPipe(link, pipe);
    return;
  }
  link.pipes.delete(pipe);
  const other = side === 'client' ? pipe.upstream : pipe.client;
  if (other !== undefined && !other.destroyed) {
    other.end();
    other.destroySoon();
  }
}

function flush(link: Link, pipe: Pipe): void {
  const ended = pipe.pendingEnd;
  pipe.pendingEnd = undefined;
  if (pipe.upstream === undefined && ended?.side !== 'client') connectUpstream(link, pipe);
  const { toUpstream, toClient } = pipe.held;
  pipe.held = { toUpstream: [], toClient: [] };
  for (const chunk of toUpstream) pipe.upstream?.write(chunk);
  for (const chunk of toClient) pipe.client.write(chunk);
  if (ended !== undefined) sideGone(link, pipe, ended.side, ended.abrupt);
}

function destroyPipe(link: Link, pipe: Pipe): void {
  link.pipes.delete(pipe);
  reset(pipe.client);
  if (pipe.upstream !== undefined) reset(pipe.upstream);
}

function reset(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    // An RST rather than a FIN: the peer learns at once that the connection is gone.
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

function closeLink(link: Link): Promise<void> {
  for (const pipe of [...link.pipes]) destroyPipe(link, pipe);
  return new Promise((resolve) => link.server.close(() => resolve()));
}
