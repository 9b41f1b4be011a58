import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './free-port.js';
import { locateZooKeeper } from './locate.js';
import { guardDir, releaseDir } from './process-guard.js';
import {
  baseEntries,
  DEFAULT_START_TIMEOUT,
  effectiveTickTime,
  jvmFlags,
  renderConfig,
  type ServerOptions,
} from './server-config.js';
import { waitFor } from './wait-for.js';
import type { TestCertificates } from './certificates.js';
import {
  isPortConflict,
  launchServer,
  tlsEntries,
  type ZooKeeperServer,
} from './zookeeper-server.js';

/** Options of {@link ZooKeeperEnsemble.start}. */
export interface ZooKeeperEnsembleOptions extends ServerOptions {
  /** Number of servers (default 3). A quorum is a strict majority of them. */
  size?: number;
  /**
   * Every member also serves TLS on a second port ({@link ZooKeeperEnsemble.secureConnectString}),
   * as {@link ZooKeeperServerOptions.tls} describes for one server. The quorum's own traffic
   * between members stays plain.
   */
  tls?: TestCertificates;
}

const QUORUM_MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
const PORT_ATTEMPTS = 3;

/**
 * A real ZooKeeper ensemble on loopback: `size` JVMs (QuorumPeerMain), each with its own client,
 * quorum and election port, data directory and `myid`. Each member is a {@link ZooKeeperServer}
 * with the usual controls (`kill`, `restart`, `pause`, `mntr`, …), so tests can crash the leader,
 * freeze a follower or lose the quorum.
 *
 * Clients connect with {@link connectString} (all members). With the test defaults, `initLimit`
 * and `syncLimit` are sized in ticks to about 10 s and 2 s, so a busy machine starting several
 * JVMs at once does not make followers miss the leader, while a frozen leader is still noticed
 * within about 2 s.
 *
 * @example
 * ```ts
 * await using ensemble = await ZooKeeperEnsemble.start({ size: 3 });
 * const client = new ZkClient(ensemble.connectString);
 * await client.start();
 * await ensemble.kill(await ensemble.leaderIndex());
 * await client.create('/still-writable');   // a new leader is elected by the two others
 * ```
 */
export class ZooKeeperEnsemble implements AsyncDisposable {
  /** The members, in `myid` order (`servers[0]` has myid 1). */
  readonly servers: readonly ZooKeeperServer[];
  /** Every member's `127.0.0.1:<port>`, comma-separated, for a client. */
  readonly connectString: string;

  /**
   * Every member's `127.0.0.1:<TLS port>`, comma-separated, for an ensemble started with `tls`;
   * `undefined` otherwise.
   */
  readonly secureConnectString: string | undefined;

  readonly #dir: string;
  #stopped = false;

  private constructor(servers: readonly ZooKeeperServer[], dir: string) {
    this.servers = servers;
    this.#dir = dir;
    this.connectString = servers.map((server) => server.connectString).join(',');
    const secure = servers.map((server) => server.secureConnectString);
    this.secureConnectString = secure.every((address) => address !== undefined)
      ? secure.join(',')
      : undefined;
  }

  /**
   * Starts every member at once and resolves when each serves requests as leader or follower.
   *
   * @throws `ZooKeeperNotFoundError` / `JavaNotFoundError` when there is nothing to run;
   *   `ServerStartError` (with the failing member's last output) when a member does not come up.
   */
  static async start(options: ZooKeeperEnsembleOptions = {}): Promise<ZooKeeperEnsemble> {
    const size = options.size ?? 3;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`Ensemble size must be a positive integer, got ${size}`);
    }
    const installation = await locateZooKeeper();
    for (let attempt = 1; ; attempt += 1) {
      const ports = await freePorts(size * (options.tls ? 4 : 3));
      const dir = await mkdtemp(join(tmpdir(), 'zkit-ensemble-'));
      guardDir(dir);
      const plans = await Promise.all(
        Array.from({ length: size }, async (_, i) => {
          const clientPort = port(ports, i);
          const securePort = options.tls ? port(ports, 3 * size + i) : undefined;
          const serverDir = join(dir, `server-${i + 1}`);
          const dataDir = join(serverDir, 'data');
          await mkdir(dataDir, { recursive: true });
          await writeFile(join(dataDir, 'myid'), `${i + 1}\n`);
          await writeFile(
            join(serverDir, 'zoo.cfg'),
            renderConfig(
              [
                ...baseEntries(options, { dataDir, clientPort }),
                ...quorumEntries(options, size, ports),
                ...(options.tls && securePort !== undefined
                  ? await tlsEntries(options.tls, securePort)
                  : []),
              ],
              options.config,
            ),
          );
          return {
            installation,
            mainClass: QUORUM_MAIN,
            dir: serverDir,
            dataDir,
            port: clientPort,
            securePort,
            jvmFlags: jvmFlags(options),
            startTimeout: options.startTimeout ?? DEFAULT_START_TIMEOUT,
          };
        }),
      );
      const started = await Promise.allSettled(plans.map((plan) => launchServer(plan)));
      const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failure = started.find((r) => r.status === 'rejected');
      if (failure === undefined) return new ZooKeeperEnsemble(servers, dir);
      await Promise.all(servers.map((server) => server.stop()));
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      releaseDir(dir);
      if (attempt >= PORT_ATTEMPTS || !isPortConflict(failure.reason)) throw failure.reason;
    }
  }

  /**
   * Index in {@link servers} of the current leader, waiting (up to `timeout` ms, default 10 000)
   * while an election is in progress. Members that are down or paused are skipped.
   *
   * @throws `WaitTimeoutError` when no member reports `Mode: leader` in time (no quorum).
   */
  async leaderIndex(options: { timeout?: number } = {}): Promise<number> {
    const { timeout = 10_000 } = options;
    const position = await waitFor(
      async () => {
        const modes = await Promise.all(
          this.servers.map((server) =>
            server.state === 'running' ? server.mode().catch(() => undefined) : undefined,
          ),
        );
        // waitFor polls while the value is falsy, and index 0 is falsy: shift by one.
        return modes.indexOf('leader') + 1;
      },
      { timeout, interval: 50, message: 'an ensemble member to report Mode: leader' },
    );
    return position - 1;
  }

  /** Crashes member `index` (SIGKILL). See {@link ZooKeeperServer.kill}. */
  kill(index: number): Promise<void> {
    return this.#member(index).kill();
  }

  /**
   * Restarts member `index` (after a kill, or gracefully if it runs) and resolves once it serves
   * again as leader or follower. See {@link ZooKeeperServer.restart}.
   */
  restart(index: number): Promise<void> {
    return this.#member(index).restart();
  }

  /** Stops every member and removes the ensemble's files. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.servers.map((server) => server.stop()));
    await rm(this.#dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    releaseDir(this.#dir);
  }

  /** Same as {@link stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #member(index: number): ZooKeeperServer {
    const server = this.servers[index];
    if (server === undefined) {
      throw new RangeError(`No ensemble member ${index} (size ${this.servers.length})`);
    }
    return server;
  }
}

/** Ports are laid out as [client × size, quorum × size, election × size, TLS × size]. */
function port(ports: readonly number[], index: number): number {
  const value = ports[index];
  if (value === undefined) throw new RangeError(`port ${index} was not allocated`);
  return value;
}

function quorumEntries(
  options: ServerOptions,
  size: number,
  ports: readonly number[],
): [string, string][] {
  const tick = effectiveTickTime(options);
  const testDefaults = options.testDefaults ?? true;
  // In ticks: the time a follower has to connect to and sync with a new leader, and the time a
  // peer may lag before it is dropped. ZooKeeper's usual 10 and 5 ticks are 1 s and 0.5 s at a
  // 100 ms tick, too short for several JVMs starting at once on a small machine.
  const initLimit = testDefaults ? Math.max(10, Math.ceil(10_000 / tick)) : 10;
  const syncLimit = testDefaults ? Math.max(5, Math.ceil(2_000 / tick)) : 5;
  const entries: [string, string][] = [
    ['initLimit', String(initLimit)],
    ['syncLimit', String(syncLimit)],
  ];
  for (let i = 0; i < size; i += 1) {
    entries.push([
      `server.${i + 1}`,
      `127.0.0.1:${port(ports, size + i)}:${port(ports, 2 * size + i)}`,
    ]);
  }
  return entries;
}
