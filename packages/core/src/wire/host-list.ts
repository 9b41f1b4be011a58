/**
 * The servers of a connect string, tried in shuffled order over every address each host name
 * resolves to. Names are resolved again at the start of each round, so a server whose address
 * changed is found again without a restart.
 *
 * @internal
 * @module
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';
import { validatePath } from '../paths.js';

/** One server entry of a connect string. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** One address to connect to. */
export interface ServerAddress extends HostPort {
  readonly family: number;
  /** The host as the connect string names it (what a TLS certificate is checked against). */
  readonly name: string;
  /** The connect string's entry it came from, as `host:port`. */
  readonly server: string;
}

/** The last failure to reach one server of the connect string. */
export interface ServerFailure {
  /** The server as `host:port`, as the connect string names it. */
  readonly server: string;
  /** Why the last attempt failed (`connect ECONNREFUSED 127.0.0.1:2181`, …), or `not tried`. */
  readonly error: string;
}

/** The port a server entry without one gets: ZooKeeper's client port, as in the Java client. */
export const DEFAULT_PORT = 2181;

/** A host name or IPv4 address: letters, digits, `-`, `_` and dots, no spaces or schemes. */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/**
 * `host[:port][,host[:port]…][/chroot]` → the servers and the chroot (`''` for none).
 *
 * The port defaults to 2181 (ZooKeeper's client port, the Java client's default too). IPv6
 * literals go in brackets: `[::1]:2181`. The chroot is everything from the first `/`; a lone
 * `/` means none. Anything else — a URL (`http://…`, `zk://…`), an empty entry, a host with
 * spaces or other characters no host name has, a port outside 1–65535 — is refused with an
 * error naming the bad part, before any connection.
 * @throws {@link InvalidArgumentError}, `InvalidPathError` (a malformed chroot)
 */
export function parseConnectString(connectString: string): {
  hosts: HostPort[];
  chroot: string;
} {
  if (typeof connectString !== 'string' || connectString.trim() === '') {
    throw new InvalidArgumentError('connectString must be a non-empty string');
  }
  const text = connectString.trim();
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    throw new InvalidArgumentError(
      `connectString ${JSON.stringify(connectString)} looks like a URL; give host:port ` +
        `(e.g. 'zk1:2181,zk2:2181/app')`,
    );
  }
  const slash = text.indexOf('/');
  const list = slash === -1 ? text : text.slice(0, slash);
  const chroot = slash === -1 ? '/' : validatePath(text.slice(slash));
  const hosts = list.split(',').map((raw) => parseEntry(raw.trim(), connectString));
  return { hosts, chroot: chroot === '/' ? '' : chroot };
}

function parseEntry(entry: string, connectString: string): HostPort {
  const bad = (why: string) =>
    new InvalidArgumentError(
      `bad server ${JSON.stringify(entry)} in connectString ${JSON.stringify(connectString)}: ${why}`,
    );
  if (entry === '') throw bad('empty entry; give host:port[,host:port…][/chroot]');
  const m = /^\[([^\]]+)\](?::([^:]*))?$/.exec(entry) ?? /^([^:[\]]*)(?::([^:]*))?$/.exec(entry);
  if (!m) {
    throw bad(
      /^[0-9A-Fa-f:.]+$/.test(entry) && entry.split(':').length > 2
        ? 'an IPv6 address goes in brackets, e.g. [::1]:2181'
        : 'expected host:port',
    );
  }
  const host = m[1] as string;
  const bracketed = entry.startsWith('[');
  if (bracketed ? isIP(host) !== 6 : !HOST_NAME.test(host)) {
    throw bad(
      bracketed ? `${JSON.stringify(host)} is not an IPv6 address` : 'not a host name or address',
    );
  }
  const port = m[2] === undefined ? DEFAULT_PORT : /^\d{1,5}$/.test(m[2]) ? Number(m[2]) : NaN;
  if (!(port > 0 && port < 65536)) throw bad('the port must be a number in 1–65535');
  return { host, port };
}

/** `host:port` of a server entry, IPv6 in brackets: how errors and connect strings name it. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * After a server-list update that asks this client to move: the servers of the new list that
 * were not in the old one, those that were, and the probability of trying a new one first.
 */
interface MovePlan {
  readonly added: readonly HostPort[];
  readonly kept: readonly HostPort[];
  readonly pAdded: number;
}

/** Hands out server addresses one at a time, a shuffled round after another. */
export class HostList {
  #hosts: readonly HostPort[];
  #plan: MovePlan | undefined;
  #round: ServerAddress[] = [];
  #at = 0;
  /** Addresses of the last round: the divisor of the per-attempt connect timeout. */
  #size: number;
  /** Why each server of the connect string last failed, by `host:port`. */
  readonly #failures = new Map<string, string>();

  constructor(hosts: readonly HostPort[]) {
    this.#hosts = hosts;
    this.#size = hosts.length;
  }

  /** How many addresses the last resolution gave (at least 1). */
  get size(): number {
    return Math.max(1, this.#size);
  }

  /** Whether the current round has no address left. */
  get roundDone(): boolean {
    return this.#at >= this.#round.length;
  }

  /**
   * The next address; starts a new round (resolving every name again) when the current one is
   * spent. Resolves with `undefined` when no name resolves at all.
   */
  async next(): Promise<ServerAddress | undefined> {
    if (this.roundDone) {
      const plan = this.#plan;
      this.#plan = undefined;
      const round = plan
        ? await resolveAll(planOrder(plan), this.#failures)
        : shuffle(await resolveAll(this.#hosts, this.#failures));
      // The address handed out last is the one just lost (or just refused): try it last, as the
      // Java client does, so a silent server does not cost the first attempt of the new round.
      const last = this.#last;
      const isLast = (a: ServerAddress) =>
        last !== undefined && a.host === last.host && a.port === last.port;
      this.#round = [...round.filter((a) => !isLast(a)), ...round.filter(isLast)];
      this.#at = 0;
      this.#size = this.#round.length;
    }
    const address = this.#round[this.#at++];
    this.#last = address;
    return address;
  }

  #last: ServerAddress | undefined;

  /** Records why connecting to `address` failed. */
  failed(address: ServerAddress, error: Error | undefined): void {
    this.#failures.set(address.server, describe(error));
  }

  /** Each server of the connect string with why its last attempt failed. */
  failures(): ServerFailure[] {
    return this.#hosts.map((h) => {
      const server = formatHostPort(h);
      return { server, error: this.#failures.get(server) ?? 'not tried' };
    });
  }

  /** The servers of the connect string. */
  get hosts(): readonly HostPort[] {
    return this.#hosts;
  }

  /** The next address is `host`'s (its first resolved address); then rounds go on as usual. */
  prefer(host: HostPort): void {
    this.#plan = { added: [host], kept: [], pAdded: 1 };
    this.#at = this.#round.length;
  }

  /** Skips the rest of the round: the next call starts a new one. */
  restart(): void {
    this.#at = this.#round.length;
  }

  /**
   * Replaces the server list and says whether this client should move to another server so
   * that the load evens out across the new list (ZooKeeper's client-side rebalancing, as its
   * Java client does it). `current` is the server (`host:port`) the client is connected to, or
   * the one it tried last. With `n` servers before and `m` after:
   * - `current` left the list: move. When the list grew, to one of the added servers; else to an
   *   added one with probability `1 − k(n − m) / (m(n − k))`, `k` being the servers kept, and to
   *   a kept one otherwise (so that the kept ones end up with `1/m` of the clients too).
   * - `current` stays and the list grew: move, with probability `1 − n/m`, to an added server;
   *   over many clients that takes the load of each old server down to `1/m`.
   * - `current` stays and the list did not grow: stay.
   * When moving, the next round tries the servers in that preference (each one once), then
   * rounds go on as usual.
   */
  update(hosts: readonly HostPort[], current: string | undefined): boolean {
    const before = new Set(this.#hosts.map(formatHostPort));
    const next = new Set(hosts.map(formatHostPort));
    const added = shuffle(hosts.filter((h) => !before.has(formatHostPort(h))));
    const kept = shuffle(hosts.filter((h) => before.has(formatHostPort(h))));
    const n = before.size;
    const m = next.size;
    const k = kept.length;
    this.#hosts = hosts;
    for (const server of [...this.#failures.keys()]) {
      if (!next.has(server)) this.#failures.delete(server);
    }
    let pAdded: number | undefined;
    if (current !== undefined && next.has(current)) {
      if (m > n && Math.random() <= 1 - n / m) pAdded = 1;
    } else if (current !== undefined) {
      // k < n here: the current server is one of the old ones that left.
      pAdded = m > n || k === n ? 1 : 1 - (k * (n - m)) / (m * (n - k));
    }
    // A round made from the old list must not be finished: the next address comes from the new.
    this.#at = this.#round.length;
    this.#plan = pAdded === undefined ? undefined : { added, kept, pAdded };
    return pAdded !== undefined;
  }
}

/**
 * The order a move tries the servers in: at each step an added one with probability `pAdded`
 * (a kept one otherwise), until one side is spent; then the rest of the other side.
 */
function planOrder({ added, kept, pAdded }: MovePlan): HostPort[] {
  const order: HostPort[] = [];
  let a = 0;
  let k = 0;
  while (a < added.length || k < kept.length) {
    const takeAdded = Math.random() <= pAdded;
    if (a < added.length && (takeAdded || k >= kept.length)) order.push(added[a++] as HostPort);
    else order.push(kept[k++] as HostPort);
  }
  return order;
}

async function resolveAll(
  hosts: readonly HostPort[],
  failures: Map<string, string>,
): Promise<ServerAddress[]> {
  const lists = await Promise.all(
    hosts.map(async (entry) => {
      const { host, port } = entry;
      const server = formatHostPort(entry);
      const family = isIP(host);
      if (family !== 0) return [{ host, port, family, server, name: host }];
      try {
        const found = await lookup(host, { all: true });
        return found.map((a) => ({
          host: a.address,
          port,
          family: a.family,
          server,
          name: host,
        }));
      } catch (error) {
        // A name that does not resolve now is skipped this round; the others are still tried.
        failures.set(server, describe(error));
        return [];
      }
    }),
  );
  return lists.flat();
}

/** An error as a short line: its message, with the code when the message lacks it. */
function describe(error: unknown): string {
  if (error === undefined) return 'the server closed the connection';
  if (!(error instanceof Error)) return String(error);
  // A ZkError wrapping a text cause (e.g. a connect timer's) says more through its cause.
  const cause = (error as { cause?: unknown }).cause;
  const message = typeof cause === 'string' ? cause : error.message;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !message.includes(code) && /^E[A-Z]+$/.test(code)
    ? `${code}: ${message}`
    : message;
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}
