import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  FourLetterWordError,
  ServerNotRunningError,
  ServerStartError,
  type TestingError,
} from './errors.js';
import { fourLetterWord, parseMntr } from './four-letter-word.js';
import { freePorts } from './free-port.js';
import { locateZooKeeper, type ZooKeeperInstallation } from './locate.js';
import { OutputTail } from './output-tail.js';
import { guardChild, guardDir, releaseDir } from './process-guard.js';
import {
  baseEntries,
  DEFAULT_START_TIMEOUT,
  jvmFlags,
  renderConfig,
  type ServerOptions,
} from './server-config.js';
import { settlesWithin, sleep } from './sleep.js';
import type { TestCertificates } from './certificates.js';

/** A JAAS file whose `Server` section accepts these DIGEST-MD5 users. */
function jaasServerSection(users: Readonly<Record<string, string>>): string {
  const lines = Object.entries(users).map(([name, password]) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new TypeError(`a SASL user name of letters, digits, '_', '.' or '-', got ${name}`);
    }
    return `  user_${name}="${password.replace(/(["\\])/g, '\\$1')}"`;
  });
  return [
    'Server {',
    '  org.apache.zookeeper.server.auth.DigestLoginModule required',
    `${lines.join('\n')};`,
    '};',
    '',
  ].join('\n');
}

/**
 * The `zoo.cfg` entries of a TLS port. ZooKeeper serves TLS only with its Netty connection
 * factory; 3.8 reads PEM key and trust stores (`ssl.*.type=PEM`: the key store file
 * holds the private key, then the certificate). Keys it does not know as `zoo.cfg` settings
 * (`ssl.*`, `authProvider.*`, `serverCnxnFactory`) become `zookeeper.`-prefixed system
 * properties, which is where it looks for them.
 */
export async function tlsEntries(
  ca: TestCertificates,
  securePort: number,
): Promise<[string, string][]> {
  const server = await ca.issue('localhost');
  return [
    ['serverCnxnFactory', 'org.apache.zookeeper.server.NettyServerCnxnFactory'],
    ['secureClientPort', String(securePort)],
    ['secureClientPortAddress', '127.0.0.1'],
    ['ssl.keyStore.location', server.keyStoreFile],
    ['ssl.keyStore.type', 'PEM'],
    ['ssl.trustStore.location', ca.caFile],
    ['ssl.trustStore.type', 'PEM'],
    ['ssl.clientAuth', 'want'],
    ['authProvider.x509', 'org.apache.zookeeper.server.auth.X509AuthenticationProvider'],
  ];
}

/** Options of {@link ZooKeeperServer.start}. */
export interface ZooKeeperServerOptions extends ServerOptions {
  /** Client port on 127.0.0.1 (default: a free port chosen by the kernel). */
  port?: number;
  /**
   * Data directory (default: `data/` inside a fresh temp directory). A directory given here is
   * left in place by `stop()`; only the temp directory holding `zoo.cfg` is removed.
   */
  dataDir?: string;
  /**
   * Also serve TLS on a second port ({@link ZooKeeperServer.secureConnectString}), with a
   * certificate issued by this authority for `127.0.0.1`, trusting client certificates from it
   * (asked for, not required), and the `x509` scheme registered for ACLs: a client that
   * presents a certificate is authenticated as its subject (`CN=…`). The plain port stays open.
   */
  tls?: TestCertificates;
  /**
   * Accept SASL DIGEST-MD5 logins of these users (name → password): a JAAS `Server` section
   * with ZooKeeper's `DigestLoginModule`, and `SASLAuthenticationProvider` registered, so that
   * a client that logs in is known to the `sasl` ACL scheme by its user name.
   */
  sasl?: { readonly users: Readonly<Record<string, string>> };
}

/** Where a server's JVM is: `running`, `paused` (SIGSTOP), `down` (killed) or `stopped` (final). */
export type ServerState = 'running' | 'paused' | 'down' | 'stopped';

/** Everything needed to (re)launch one server JVM. Internal: built by `start()` and ensembles. */
export interface ServerPlan {
  installation: ZooKeeperInstallation;
  mainClass: string;
  /** The server's own temp directory (holds zoo.cfg), removed by `stop()`. */
  dir: string;
  dataDir: string;
  port: number;
  /** The TLS port, when the server has one. */
  securePort?: number | undefined;
  jvmFlags: readonly string[];
  startTimeout: number;
}

const STANDALONE_MAIN = 'org.apache.zookeeper.server.ZooKeeperServerMain';
const OUTPUT_LINES = 200;
const PROBE_TIMEOUT = 500;
const PROBE_INTERVAL = 50;
const TERM_GRACE = 10_000;
const PORT_ATTEMPTS = 3;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

let launch: (plan: ServerPlan) => Promise<ZooKeeperServer>;

/**
 * Starts the JVM of a planned server and resolves once it serves requests. Used by
 * `ZooKeeperEnsemble`; not part of the public API.
 */
export function launchServer(plan: ServerPlan): Promise<ZooKeeperServer> {
  return launch(plan);
}

/** Whether a start failed because the chosen port was taken, so another port may be tried. */
export function isPortConflict(error: unknown): boolean {
  return (
    error instanceof ServerStartError &&
    [error.message, ...error.output].some((line) =>
      /Address already in use|BindException/.test(line),
    )
  );
}

/**
 * A real ZooKeeper server (a JVM child process) on a loopback port, for tests.
 *
 * The JVM is spawned and owned by this process: it is killed if this process exits or receives
 * SIGINT/SIGTERM/SIGHUP, and it never keeps this process alive on its own (a forgotten server does
 * not hang a test run). Each server has its own temp directory, removed by {@link stop}.
 *
 * ZooKeeper facts the controls reflect: a restarted standalone server keeps its sessions (they
 * are stored in the data directory), so a restart, however long, does not expire anyone; use
 * `expireSession()` or a `FaultProxy` partition longer than the session timeout for that.
 *
 * @example
 * ```ts
 * await using server = await ZooKeeperServer.start();
 * const client = new ZkClient(server.connectString);
 * await client.start();
 * await server.restart();          // same port, same data, same sessions
 * ```
 */
export class ZooKeeperServer implements AsyncDisposable {
  /** The client port on 127.0.0.1. Stable across restarts. */
  readonly port: number;
  /** `127.0.0.1:<port>`, for a client. */
  readonly connectString: string;
  /** The data directory (snapshots, transaction logs and, in an ensemble, `myid`). */
  readonly dataDir: string;
  /** `127.0.0.1:<TLS port>` of a server started with `tls`; `undefined` otherwise. */
  readonly secureConnectString: string | undefined;

  readonly #plan: ServerPlan;
  readonly #tail = new OutputTail(OUTPUT_LINES);
  #child: ChildProcess | undefined;
  #exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  #state: ServerState = 'down';

  static {
    launch = async (plan) => {
      const server = new ZooKeeperServer(plan);
      await server.#launch();
      return server;
    };
  }

  private constructor(plan: ServerPlan) {
    this.#plan = plan;
    this.port = plan.port;
    this.dataDir = plan.dataDir;
    this.connectString = `127.0.0.1:${plan.port}`;
    this.secureConnectString =
      plan.securePort === undefined ? undefined : `127.0.0.1:${plan.securePort}`;
  }

  /**
   * Starts a standalone server and resolves once it serves requests (`srvr` reports a `Mode:`;
   * `ruok` answers earlier than that, and a client connecting then waits a whole reconnect tick).
   *
   * @throws `ZooKeeperNotFoundError` / `JavaNotFoundError` when there is nothing to run, and
   *   {@link ServerStartError} (with the server's last output lines) when the JVM exits or does not
   *   become ready within `startTimeout`.
   */
  static async start(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
    const installation = await locateZooKeeper();
    const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt += 1) {
      const free = await freePorts(2);
      const port = options.port ?? free[0] ?? 0;
      const securePort = options.tls ? free[1] : undefined;
      const dir = await mkdtemp(join(tmpdir(), 'zkit-zookeeper-'));
      guardDir(dir);
      const dataDir = options.dataDir ?? join(dir, 'data');
      await mkdir(dataDir, { recursive: true });
      const entries = baseEntries(options, { dataDir, clientPort: port });
      if (options.tls && securePort !== undefined) {
        entries.push(...(await tlsEntries(options.tls, securePort)));
      }
      const extraFlags: string[] = [];
      if (options.sasl) {
        const jaas = join(dir, 'jaas.conf');
        await writeFile(jaas, jaasServerSection(options.sasl.users));
        extraFlags.push(`-Djava.security.auth.login.config=${jaas}`);
        entries.push([
          'authProvider.sasl',
          'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
        ]);
      }
      await writeFile(join(dir, 'zoo.cfg'), renderConfig(entries, options.config));
      const plan: ServerPlan = {
        installation,
        mainClass: STANDALONE_MAIN,
        dir,
        dataDir,
        port,
        securePort,
        jvmFlags: [...extraFlags, ...jvmFlags(options)],
        startTimeout: options.startTimeout ?? DEFAULT_START_TIMEOUT,
      };
      try {
        return await launchServer(plan);
      } catch (error) {
        await removeDir(dir);
        if (attempt >= attempts || !isPortConflict(error)) throw error;
      }
    }
  }

  /** Process id of the current JVM; `undefined` while it is down or after `stop()`. */
  get pid(): number | undefined {
    return this.#state === 'running' || this.#state === 'paused' ? this.#child?.pid : undefined;
  }

  /** Where the JVM is: `running`, `paused`, `down` (after `kill()`) or `stopped`. */
  get state(): ServerState {
    return this.#state;
  }

  /**
   * Shuts the server down for good: SIGTERM (SIGKILL if it has not exited after 10 s), waits for
   * the JVM to exit, and removes its temp directory. Idempotent. Sessions connected to it see a
   * connection loss.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    await this.#terminate('SIGTERM');
    this.#state = 'stopped';
    await removeDir(this.#plan.dir);
  }

  /**
   * Crashes the server: SIGKILL, then waits for the JVM to exit. Its files stay, so
   * {@link restart} brings it back with its data and sessions, like a machine coming back after
   * a power cut. A no-op when already down or stopped.
   */
  async kill(): Promise<void> {
    if (this.#state === 'stopped') return;
    await this.#terminate('SIGKILL');
  }

  /**
   * Restarts the server on the same port and data directory: a graceful SIGTERM if it is running
   * or paused, then a new JVM, resolving once it serves requests again. Works after {@link kill}.
   * A standalone server keeps its sessions across a restart.
   *
   * @throws {@link ServerNotRunningError} after {@link stop}; {@link ServerStartError} when the
   *   new JVM does not come up (for example when another process took the port meanwhile).
   */
  async restart(): Promise<void> {
    if (this.#state === 'stopped') {
      throw new ServerNotRunningError('restart', 'the server was stopped and its files removed');
    }
    await this.#terminate('SIGTERM');
    await this.#launch();
  }

  /**
   * Freezes the JVM with SIGSTOP: connections stay open but nothing answers, like a long GC pause
   * or a hung machine. Resolves once the kernel reports the process stopped. Clients see silence;
   * after 2/3 of their session timeout they drop the connection, and once the session timeout
   * passes after {@link resume}, the server expires their sessions.
   *
   * @throws {@link ServerNotRunningError} when the JVM is down or stopped.
   */
  async pause(): Promise<void> {
    const child = this.#requireJvm('pause');
    if (this.#state === 'paused') return;
    child.kill('SIGSTOP');
    this.#state = 'paused';
    await waitForProcessState(child.pid, 'T');
  }

  /**
   * Continues a JVM frozen by {@link pause} (SIGCONT). A no-op when it is running.
   *
   * @throws {@link ServerNotRunningError} when the JVM is down or stopped.
   */
  async resume(): Promise<void> {
    const child = this.#requireJvm('resume');
    if (this.#state === 'running') return;
    child.kill('SIGCONT');
    this.#state = 'running';
    await Promise.resolve();
  }

  /**
   * Sends a four-letter-word command to this server and resolves with the answer.
   *
   * @throws `FourLetterWordError` when the server does not answer (down, paused, …).
   */
  fourLetter(command: string, options: { timeout?: number } = {}): Promise<string> {
    return fourLetterWord(this.connectString, command, options);
  }

  /**
   * The server's `mntr` counters, parsed: `zk_packets_received`, `zk_znode_count`,
   * `zk_num_alive_connections`, `zk_server_state`, … Compare two readings to count the requests
   * an operation cost.
   */
  async mntr(): Promise<Record<string, number | string>> {
    return parseMntr(await this.fourLetter('mntr'));
  }

  /**
   * The server's current role from `srvr`: `standalone`, `leader`, `follower` or `observer`;
   * `undefined` when it answers but does not serve (an ensemble member without quorum).
   *
   * @throws `FourLetterWordError` when the server does not answer.
   */
  async mode(): Promise<string | undefined> {
    return modeOf(await this.fourLetter('srvr', { timeout: PROBE_TIMEOUT * 4 }));
  }

  /** The last lines (up to 200) the server printed, oldest first. */
  logTail(): string[] {
    return this.#tail.lines();
  }

  /** Same as {@link stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #requireJvm(action: string): ChildProcess {
    if (this.#state === 'stopped') {
      throw new ServerNotRunningError(action, 'the server was stopped');
    }
    if (this.#state === 'down' || this.#child === undefined) {
      throw new ServerNotRunningError(action, 'the server is down (call restart() first)');
    }
    return this.#child;
  }

  async #launch(): Promise<void> {
    const { installation, mainClass, dir, jvmFlags: flags } = this.#plan;
    const args = [
      ...flags,
      '-cp',
      installation.classpath.join(delimiter),
      mainClass,
      join(dir, 'zoo.cfg'),
    ];
    this.#tail.write(
      `--- ${new Date().toISOString()} starting ${mainClass} on port ${this.port}\n`,
    );
    const child = spawn(installation.java, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#state = 'running';
    this.#exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
    });
    void this.#exited.then(() => {
      if (this.#child === child && this.#state !== 'stopped') this.#state = 'down';
    });
    guardChild(child);
    child.stdout?.on('data', (chunk: Buffer) => this.#tail.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#tail.write(chunk));
    // A forgotten server must not keep the test process alive; the guard kills it at exit.
    child.unref();
    (child.stdout as Socket | null)?.unref();
    (child.stderr as Socket | null)?.unref();
    try {
      await this.#awaitReady();
    } catch (error) {
      await this.#terminate('SIGKILL');
      throw error;
    }
  }

  async #awaitReady(): Promise<void> {
    const { startTimeout, dataDir } = this.#plan;
    const deadline = Date.now() + startTimeout;
    let exit: Exit | undefined;
    void this.#exited.then((e) => (exit = e));
    let lastProbe: TestingError | undefined;
    for (;;) {
      if (exit !== undefined) {
        const how =
          exit.error !== undefined
            ? `could not run ${this.#plan.installation.java}: ${exit.error.message}`
            : `the JVM exited (${exit.signal ?? `code ${String(exit.code)}`}) before serving`;
        throw new ServerStartError(how, this.#tail.lines(), { cause: exit.error });
      }
      try {
        if (modeOf(await this.fourLetter('srvr', { timeout: PROBE_TIMEOUT })) !== undefined) {
          // Check that the answer came from our JVM: another process may have bound the port
          // between the free-port probe and our start, and ours is then about to fail.
          const conf = await this.fourLetter('conf', { timeout: PROBE_TIMEOUT * 4 });
          if (conf.includes(dataDir)) return;
          await settlesWithin(this.#exited, 2000);
          throw new ServerStartError(
            `another server answers on port ${this.port} (Address already in use)`,
            this.#tail.lines(),
          );
        }
      } catch (error) {
        if (!(error instanceof FourLetterWordError)) throw error;
        lastProbe = error;
      }
      if (Date.now() >= deadline) {
        throw new ServerStartError(
          `not serving after ${startTimeout} ms`,
          this.#tail.lines(),
          lastProbe === undefined ? undefined : { cause: lastProbe },
        );
      }
      await settlesWithin(this.#exited, PROBE_INTERVAL);
    }
  }

  /** Sends `signal` if the JVM runs, and waits for its exit (SIGKILL after a grace period). */
  async #terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined || this.#state === 'down' || this.#state === 'stopped') {
      await this.#exited;
      return;
    }
    // Keep this process alive while it waits for the exit it asked for.
    child.ref();
    try {
      child.kill(signal);
      // A stopped process only acts on SIGTERM once continued; SIGKILL needs no help.
      if (this.#state === 'paused' && signal !== 'SIGKILL') child.kill('SIGCONT');
      if (!(await settlesWithin(this.#exited, TERM_GRACE))) {
        child.kill('SIGKILL');
        await this.#exited;
      }
    } finally {
      child.unref();
    }
    this.#state = 'down';
  }
}

function modeOf(srvr: string): string | undefined {
  return /^Mode: (\S+)/m.exec(srvr)?.[1];
}

async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  releaseDir(dir);
}

/**
 * Waits until /proc says the process is in `state` (`T` = stopped), so `pause()` returns only once
 * the JVM is really frozen. Where /proc does not exist, returns at once.
 */
async function waitForProcessState(pid: number | undefined, state: string): Promise<void> {
  if (pid === undefined) return;
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    // Format: `pid (comm) S …`; comm may hold spaces and parentheses, so read after the last ')'.
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === state) return;
    await sleep(5);
  }
}
