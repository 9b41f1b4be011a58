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
}

/**
 * `host:port[,host:port…][/chroot]` → the servers and the chroot (`''` for none). IPv6 literals
 * go in brackets: `[::1]:2181`.
 * @throws {@link InvalidArgumentError}, `InvalidPathError`
 */
export function parseConnectString(connectString: string): {
  hosts: HostPort[];
  chroot: string;
} {
  if (typeof connectString !== 'string' || connectString.trim() === '') {
    throw new InvalidArgumentError('connectString must be a non-empty string');
  }
  const slash = connectString.indexOf('/');
  const list = slash === -1 ? connectString : connectString.slice(0, slash);
  const chroot = slash === -1 ? '/' : validatePath(connectString.slice(slash));
  const hosts = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+)(?::(\d+))?$/.exec(entry);
      const port = m?.[2] === undefined ? 2181 : Number(m[2]);
      if (!m || !(port > 0 && port < 65536)) {
        throw new InvalidArgumentError(`bad server address ${JSON.stringify(entry)}`);
      }
      return { host: m[1] as string, port };
    });
  if (hosts.length === 0) throw new InvalidArgumentError('connectString names no server');
  return { hosts, chroot: chroot === '/' ? '' : chroot };
}

/** Hands out server addresses one at a time, a shuffled round after another. */
export class HostList {
  readonly #hosts: readonly HostPort[];
  #round: ServerAddress[] = [];
  #at = 0;
  /** Addresses of the last round: the divisor of the per-attempt connect timeout. */
  #size: number;

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
      this.#round = shuffle(await resolveAll(this.#hosts));
      this.#at = 0;
      this.#size = this.#round.length;
    }
    return this.#round[this.#at++];
  }

  /** Skips the rest of the round: the next call starts a new one. */
  restart(): void {
    this.#at = this.#round.length;
  }
}

async function resolveAll(hosts: readonly HostPort[]): Promise<ServerAddress[]> {
  const lists = await Promise.all(
    hosts.map(async ({ host, port }) => {
      const family = isIP(host);
      if (family !== 0) return [{ host, port, family }];
      try {
        const found = await lookup(host, { all: true });
        return found.map((a) => ({ host: a.address, port, family: a.family }));
      } catch {
        // A name that does not resolve now is skipped this round; the others are still tried.
        return [];
      }
    }),
  );
  return lists.flat();
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}
