import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Drives a Java process running Apache Curator 5 recipes (java/CuratorAgent.java), so tests can
 * check that zkit and Curator coordinate correctly on the same znodes.
 *
 * The agent is compiled with `javac` against the Debian/Ubuntu Curator jars on first use, once
 * per process, into `test/interop/build/` (reused while the source and classpath are unchanged).
 */

/** One line the agent printed: `ack`, `error`, or an asynchronous event such as `isLeader`. */
export interface AgentEvent {
  event: string;
  [field: string]: unknown;
}

export interface CuratorAgentOptions {
  /** Requested session timeout of the agent's one Curator session. Default 10 000 ms. */
  sessionTimeoutMs?: number;
  /** Bound on JVM start + first connection (compiling comes before). Default 60 000 ms. */
  startTimeoutMs?: number;
  /** Bound on each reply to `send`. Default 90 000 ms (lock waits are bounded by their own argument). */
  replyTimeoutMs?: number;
  /** Directory holding the jars. Default `$ZKIT_JAR_DIR`, else `/usr/share/java`. */
  jarDir?: string;
}

export interface CuratorAgent {
  /** The agent's ZooKeeper session id, hex as the server prints it. */
  readonly sessionId: string;
  readonly pid: number;
  /**
   * Sends one command and resolves with its `ack` event; rejects with `CuratorAgentError` when
   * the agent answers with an `error` event (for example `type: 'timeout'`).
   */
  send(cmd: string, ...args: (string | number)[]): Promise<AgentEvent>;
  /**
   * The next asynchronous event named `event` (optionally matching `where`), including one that
   * arrived before the call and has not been taken yet. Rejects after `timeout` ms (default 10 s).
   */
  next(
    event: string,
    options?: { timeout?: number; where?: (e: AgentEvent) => boolean },
  ): Promise<AgentEvent>;
  /** Sends `quit` (Curator closes its recipes and session) and waits for the process to exit. */
  close(): Promise<void>;
  /** SIGKILL: the session is not closed, so its ephemeral nodes stay until the server expires it. */
  kill(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export class CuratorAgentError extends Error {
  constructor(
    readonly cmd: string,
    readonly type: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CuratorAgentError';
  }
}

/** Java, javac or the Curator jars are missing; the message says what to install. */
export class CuratorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CuratorUnavailableError';
  }
}

const here = fileURLToPath(new URL('.', import.meta.url));
const SOURCE = join(here, 'java', 'CuratorAgent.java');
const BUILD = join(here, 'build');

/** Jars on the agent's classpath and the Debian/Ubuntu package that ships each. */
const JARS: readonly [jar: string, aptPackage: string][] = [
  ['curator-client', 'libcurator-client-java'],
  ['curator-framework', 'libcurator-framework-java'],
  ['curator-recipes', 'libcurator-recipes-java'],
  ['curator-x-discovery', 'libcurator-discovery-java'],
  ['zookeeper', 'libzookeeper-java'],
  ['zookeeper-jute', 'libzookeeper-java'],
  ['guava', 'libguava-java'],
  ['slf4j-api', 'libslf4j-java'],
  // SLF4J's no-op binding keeps Curator and the ZooKeeper client quiet.
  ['slf4j-nop', 'libslf4j-java'],
  ['jackson-core', 'libjackson2-core-java'],
  ['jackson-databind', 'libjackson2-databind-java'],
  ['jackson-annotations', 'libjackson2-annotations-java'],
];

function findExecutable(name: string): string | null {
  const candidates: string[] = [];
  const javaHome = process.env['JAVA_HOME'];
  if (javaHome) candidates.push(join(javaHome, 'bin', name));
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir) candidates.push(join(dir, name));
  }
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

interface Toolchain {
  java: string;
  javac: string;
  classpath: string[];
}

function locateToolchain(jarDir: string): Toolchain {
  const java = findExecutable('java');
  const javac = findExecutable('javac');
  if (!java || !javac) {
    throw new CuratorUnavailableError(
      `The Curator interop tests need a JDK (${!java ? 'java' : 'javac'} not found in JAVA_HOME or PATH). ` +
        'On Debian/Ubuntu: sudo apt-get install default-jdk-headless',
    );
  }
  const missing = JARS.filter(([jar]) => !existsSync(join(jarDir, `${jar}.jar`)));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    throw new CuratorUnavailableError(
      `The Curator interop tests need jars missing from ${jarDir}: ` +
        `${missing.map(([jar]) => `${jar}.jar`).join(', ')}. ` +
        `On Debian/Ubuntu: sudo apt-get install ${packages.join(' ')} ` +
        '(or point ZKIT_JAR_DIR at a directory holding them).',
    );
  }
  return { java, javac, classpath: JARS.map(([jar]) => join(jarDir, `${jar}.jar`)) };
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code}:\n${stderr}`));
    });
  });
}

const compiled = new Map<string, Promise<{ java: string; classpath: string }>>();

/**
 * Compiles the agent unless a build of the same source against the same classpath exists.
 * Concurrent test processes each compile into a private directory and rename it into place.
 */
export function compileCuratorAgent(
  jarDir = process.env['ZKIT_JAR_DIR'] ?? '/usr/share/java',
): Promise<{ java: string; classpath: string }> {
  let pending = compiled.get(jarDir);
  if (!pending) {
    pending = (async () => {
      const tools = locateToolchain(jarDir);
      const key = createHash('sha256')
        .update(readFileSync(SOURCE))
        .update(tools.classpath.join(delimiter))
        .digest('hex')
        .slice(0, 16);
      const out = join(BUILD, key);
      if (!existsSync(join(out, 'CuratorAgent.class'))) {
        const tmp = join(BUILD, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
        await mkdir(tmp, { recursive: true });
        try {
          await run(tools.javac, [
            '-nowarn',
            '-Xlint:none',
            '-encoding',
            'UTF-8',
            '-d',
            tmp,
            '-cp',
            tools.classpath.join(delimiter),
            SOURCE,
          ]);
          await rename(tmp, out).catch((err: unknown) => {
            // Another process finished first; its build is identical.
            if (!existsSync(join(out, 'CuratorAgent.class'))) throw err;
          });
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
        // Builds of earlier sources are of no further use.
        for (const entry of await readdir(BUILD)) {
          if (entry !== key && /^[0-9a-f]{16}$/.test(entry)) {
            await rm(join(BUILD, entry), { recursive: true, force: true });
          }
        }
      }
      return { java: tools.java, classpath: [out, ...tools.classpath].join(delimiter) };
    })();
    compiled.set(jarDir, pending);
    pending.catch(() => compiled.delete(jarDir));
  }
  return pending;
}

interface Waiter {
  event: string;
  where: ((e: AgentEvent) => boolean) | undefined;
  resolve: (e: AgentEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Pending {
  cmd: string;
  resolve: (e: AgentEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class AgentProcess implements CuratorAgent {
  sessionId = '';
  private readonly pending = new Map<string, Pending>();
  private readonly buffered: AgentEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly exited: Promise<void>;
  private exitError: Error | null = null;
  private fatalError: Error | null = null;
  private stderrTail = '';
  private nextId = 1;

  constructor(
    private readonly child: ChildProcess,
    private readonly replyTimeoutMs: number,
  ) {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    // A write after the JVM died fails with EPIPE; the exit handler reports that death.
    child.stdin?.on('error', () => {});
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitError = new Error(
          `Curator agent exited (${signal ?? `code ${code}`})` +
            (this.stderrTail ? `; stderr:\n${this.stderrTail}` : ''),
        );
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(this.exitError);
        }
        this.pending.clear();
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(this.exitError);
        }
        this.waiters.clear();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private onLine(line: string): void {
    let e: AgentEvent;
    try {
      e = JSON.parse(line) as AgentEvent;
    } catch {
      this.stderrTail = `${this.stderrTail}${line}\n`.slice(-4000);
      return;
    }
    if (e.event === 'fatal') {
      // The agent could not start (it exits next); fail whoever waits for it now.
      this.fatalError = new Error(`Curator agent could not start: ${String(e['error'])}`);
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(this.fatalError);
      }
      this.waiters.clear();
      return;
    }
    const id = typeof e['id'] === 'string' ? e['id'] : undefined;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (pending && id !== undefined && (e.event === 'ack' || e.event === 'error')) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      if (e.event === 'ack') pending.resolve(e);
      else {
        const type = typeof e['type'] === 'string' ? e['type'] : undefined;
        pending.reject(
          new CuratorAgentError(pending.cmd, type, `${pending.cmd}: ${String(e['error'])}`),
        );
      }
      return;
    }
    for (const w of this.waiters) {
      if (w.event === e.event && (!w.where || w.where(e))) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(e);
        return;
      }
    }
    this.buffered.push(e);
  }

  send(cmd: string, ...args: (string | number)[]): Promise<AgentEvent> {
    if (this.exitError) return Promise.reject(this.exitError);
    const parts = args.map(String);
    const bad = parts.find(
      (a, i) => /[\r\n]/.test(a) || a === '' || (i < parts.length - 1 && /\s/.test(a)),
    );
    if (bad !== undefined) {
      return Promise.reject(
        new TypeError(`agent arguments are blank-separated on one line: ${JSON.stringify(bad)}`),
      );
    }
    const id = String(this.nextId++);
    return new Promise<AgentEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new CuratorAgentError(
            cmd,
            'noReply',
            `${cmd}: no reply within ${this.replyTimeoutMs} ms`,
          ),
        );
      }, this.replyTimeoutMs);
      this.pending.set(id, { cmd, resolve, reject, timer });
      this.child.stdin!.write(`${[id, cmd, ...parts].join(' ')}\n`);
    });
  }

  next(
    event: string,
    options: { timeout?: number; where?: (e: AgentEvent) => boolean } = {},
  ): Promise<AgentEvent> {
    const { timeout = 10_000, where } = options;
    const index = this.buffered.findIndex((e) => e.event === event && (!where || where(e)));
    if (index >= 0) return Promise.resolve(this.buffered.splice(index, 1)[0] as AgentEvent);
    if (this.fatalError ?? this.exitError) return Promise.reject(this.fatalError ?? this.exitError);
    return new Promise<AgentEvent>((resolve, reject) => {
      const waiter: Waiter = {
        event,
        where,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no ${event} event from the Curator agent within ${timeout} ms`));
        }, timeout),
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves once the agent reports `ready`; rejects if it reports `fatal` or dies first. */
  async ready(timeoutMs: number): Promise<void> {
    const ready = await this.next('ready', { timeout: timeoutMs });
    this.sessionId = String(ready['sessionId']);
  }

  async close(): Promise<void> {
    if (this.exitError) return;
    try {
      await Promise.race([this.send('quit'), this.exited]);
    } catch {
      // the process is going away either way
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.exitError) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts a Curator agent with one session on `connectString` (a chroot suffix is honoured) and
 * resolves once it is connected.
 *
 * @example
 * const agent = await startCuratorAgent(zk.connectString);
 * try {
 *   const { node } = await agent.send('mutex.acquire', '/locks/orders', 10_000);
 *   await agent.send('mutex.release', '/locks/orders');
 * } finally {
 *   await agent.close();
 * }
 */
export async function startCuratorAgent(
  connectString: string,
  options: CuratorAgentOptions = {},
): Promise<CuratorAgent> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const { java, classpath } = await compileCuratorAgent(options.jarDir);
  const child = spawn(
    java,
    [
      // Short-lived test process: fast start matters more than peak speed.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx256m',
      '-cp',
      classpath,
      'CuratorAgent',
      connectString,
      String(options.sessionTimeoutMs ?? 10_000),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const agent = new AgentProcess(child, options.replyTimeoutMs ?? 90_000);
  try {
    await agent.ready(startTimeoutMs);
  } catch (err) {
    await agent.kill();
    throw err;
  }
  return agent;
}
