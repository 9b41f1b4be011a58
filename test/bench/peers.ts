import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer } from '@zkit/testing';
import { clockTicks } from './host-cpu.js';
import {
  buildTable,
  formatPeerTable,
  LIB_LABELS,
  LIBS,
  PEER_LEGEND,
  type CheckRow,
  type Lib,
  type PeerRun,
  type RunResults,
  type TableRow,
} from './peer-table.js';

/**
 * `npm run bench -- --peers`: zkit, Apache Curator (Java) and kazoo (Python) on the same
 * scenarios, each run in its own process against its own freshly started, untuned server,
 * interleaved in rounds whose order rotates (zkit, Curator, kazoo; then Curator, kazoo, zkit; …).
 * Prints one table of medians over the rounds with the ratios zkit ÷ Curator and zkit ÷ kazoo,
 * and writes every raw figure of every round to `bench-results/peers-<timestamp>.json`.
 */

/** The scenarios every library runs, in the defined order (SCENARIOS.md §0 "Process model"). */
export const PEER_SCENARIOS = [
  'S0',
  'S1',
  'S2-c8',
  'S2-c32',
  'S3',
  'S3-crash',
  'S4a',
  'S4b',
  'S4c',
  'S5',
  'S6',
  'S7-c1',
  'S7-c8',
  'S7-c32',
  'S8',
] as const;

/** A runner process that has not finished after this long is killed (its bounded waits failed). */
const RUNNER_BOUND_MS = 60 * 60_000;

// This module runs from test/dist/bench/ (built) or test/bench/ (vitest, from source).
const here = dirname(fileURLToPath(import.meta.url));
const TEST_ROOT = basename(dirname(here)) === 'dist' ? join(here, '..', '..') : join(here, '..');
const PEERS_DIR = join(TEST_ROOT, 'bench', 'peers');
const ZKIT_MAIN = join(TEST_ROOT, 'dist', 'bench', 'main.js');

export interface PeersOptions {
  rounds: number;
  scale: number;
  /** Scenario names (exact), a subset of {@link PEER_SCENARIOS} in their order. */
  scenarios: readonly string[];
  /** The libraries to run (default all three). */
  libs?: readonly Lib[];
  /** Directory for the results file. */
  outDir: string;
  log?: (line: string) => void;
}

export interface PeerResults {
  kind: 'peers';
  started_utc: string;
  finished_utc: string;
  scale: number;
  rounds: number;
  scenarios: readonly string[];
  libs: readonly Lib[];
  host: {
    platform: string;
    cpus: number;
    cpu_model: string;
    loadavg_start: number[];
    loadavg_end: number[];
  };
  /** The order the libraries ran in, per round. */
  orders: Lib[][];
  runs: PeerRun[];
  table: { rows: TableRow[]; checks: CheckRow[] };
}

/** Why a peer cannot run here (missing JDK, jars, Python or kazoo); says what to install. */
export class PeerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerUnavailableError';
  }
}

// ---------------------------------------------------------------------------- Curator (Java)

/** Jars on the Curator runner's classpath and the Debian/Ubuntu package that ships each. */
const CURATOR_JARS: readonly [jar: string, aptPackage: string][] = [
  ['curator-client', 'libcurator-client-java'],
  ['curator-framework', 'libcurator-framework-java'],
  ['curator-recipes', 'libcurator-recipes-java'],
  ['curator-x-discovery', 'libcurator-discovery-java'],
  ['zookeeper', 'libzookeeper-java'],
  ['zookeeper-jute', 'libzookeeper-java'],
  ['guava', 'libguava-java'],
  ['slf4j-api', 'libslf4j-java'],
  // SLF4J's no-op binding: Curator and the ZooKeeper client log nothing.
  ['slf4j-nop', 'libslf4j-java'],
  ['jackson-core', 'libjackson2-core-java'],
  ['jackson-databind', 'libjackson2-databind-java'],
  ['jackson-annotations', 'libjackson2-annotations-java'],
];

function which(name: string): string | null {
  const dirs = [
    ...(process.env['JAVA_HOME'] ? [join(process.env['JAVA_HOME'], 'bin')] : []),
    ...(process.env['PATH'] ?? '').split(delimiter),
  ];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

interface JavaRunner {
  java: string;
  classpath: string;
}

let curatorBuild: JavaRunner | undefined;

/**
 * Compiles `peers/CuratorBench.java` against the jars (default `/usr/share/java`, or
 * `$ZKIT_JAR_DIR`) into `peers/build/<hash>/`, reused while source and classpath are unchanged.
 */
export function compileCuratorRunner(
  jarDir = process.env['ZKIT_JAR_DIR'] ?? '/usr/share/java',
): JavaRunner {
  if (curatorBuild) return curatorBuild;
  const java = which('java');
  const javac = which('javac');
  if (!java || !javac) {
    throw new PeerUnavailableError(
      'the Curator runner needs a JDK (java and javac): apt-get install default-jdk-headless',
    );
  }
  const missing = CURATOR_JARS.filter(([jar]) => !existsSync(join(jarDir, `${jar}.jar`)));
  if (missing.length > 0) {
    throw new PeerUnavailableError(
      `the Curator runner needs ${missing.map(([j]) => `${j}.jar`).join(', ')} in ${jarDir}: ` +
        `apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')}`,
    );
  }
  const jars = CURATOR_JARS.map(([jar]) => join(jarDir, `${jar}.jar`));
  const source = join(PEERS_DIR, 'CuratorBench.java');
  const key = createHash('sha256')
    .update(readFileSync(source))
    .update(jars.join(delimiter))
    .digest('hex')
    .slice(0, 16);
  const buildRoot = join(PEERS_DIR, 'build');
  const out = join(buildRoot, key);
  if (!existsSync(join(out, 'CuratorBench.class'))) {
    const tmp = mkdtempSync(join(tmpdir(), 'zkit-curator-bench-'));
    const r = spawnSync(
      javac,
      ['-nowarn', '-encoding', 'UTF-8', '-d', tmp, '-cp', jars.join(delimiter), source],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`javac failed:\n${r.stderr}`);
    }
    mkdirSync(buildRoot, { recursive: true });
    for (const entry of existsSync(buildRoot) ? readdirSync(buildRoot) : []) {
      rmSync(join(buildRoot, entry), { recursive: true, force: true });
    }
    mkdirSync(out, { recursive: true });
    for (const file of readdirSync(tmp))
      writeFileSync(join(out, file), readFileSync(join(tmp, file)));
    rmSync(tmp, { recursive: true, force: true });
  }
  curatorBuild = { java, classpath: [out, ...jars].join(delimiter) };
  return curatorBuild;
}

// ---------------------------------------------------------------------------- kazoo (Python)

let kazooPython: string | undefined;

/** The first of `$BENCH_PYTHON`, `/usr/bin/python3`, `python3` that can import kazoo. */
export function findKazooPython(): string {
  if (kazooPython) return kazooPython;
  const candidates = [process.env['BENCH_PYTHON'], '/usr/bin/python3', 'python3'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import kazoo.version; print(kazoo.version.__version__)'], {
      encoding: 'utf8',
    });
    if (r.status === 0) return (kazooPython = python);
  }
  throw new PeerUnavailableError(
    `the kazoo runner needs a Python 3 with kazoo (tried ${candidates.join(', ')}): ` +
      'apt-get install python3-kazoo, or set BENCH_PYTHON',
  );
}

// ---------------------------------------------------------------------------- running one library

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a child to its end, keeping the tail of its output and echoing its progress lines. */
function runChild(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      keep(chunk);
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (/^(curator|kazoo) S\S+$/.test(line)) progress(line);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUNNER_BOUND_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function readResults(file: string, run: ChildRun, what: string): RunResults {
  if (!existsSync(file)) {
    throw new Error(
      `${what} wrote no results (exit ${run.code ?? run.signal}):\n${run.output.slice(-4000)}`,
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as RunResults;
}

async function runZkit(opts: PeersOptions, work: string, log: (l: string) => void) {
  const out = join(work, 'zkit');
  mkdirSync(out, { recursive: true });
  const run = await runChild(
    process.execPath,
    [ZKIT_MAIN],
    {
      ...process.env,
      BENCH_ONLY: '',
      BENCH_NAMES: opts.scenarios.join(','),
      BENCH_SCALE: String(opts.scale),
      BENCH_OUT: out,
    },
    log,
  );
  const file = readdirSync(out).find((f) => f.endsWith('.json'));
  return readResults(file ? join(out, file) : join(out, 'none.json'), run, 'zkit');
}

/** Starts a fresh untuned server, runs a peer runner against it, stops the server. */
async function runPeer(
  lib: 'curator' | 'kazoo',
  opts: PeersOptions,
  work: string,
  log: (l: string) => void,
): Promise<RunResults> {
  const file = join(work, `${lib}.json`);
  const server = await ZooKeeperServer.start({ testDefaults: false });
  try {
    const args = [server.connectString, String(opts.scale), opts.scenarios.join(','), file];
    // The runner measures host_cpu per scenario itself (SCENARIOS.md §7), given the server's pid.
    const env = {
      ...process.env,
      BENCH_SERVER_PID: String(server.pid ?? 0),
      BENCH_CLK_TCK: String(clockTicks()),
    };
    let run: ChildRun;
    if (lib === 'curator') {
      const java = compileCuratorRunner();
      run = await runChild(
        java.java,
        ['-cp', java.classpath, 'CuratorBench', 'run', ...args],
        env,
        log,
      );
    } else {
      run = await runChild(
        findKazooPython(),
        [join(PEERS_DIR, 'kazoo_bench.py'), 'run', ...args],
        env,
        log,
      );
    }
    return readResults(file, run, LIB_LABELS[lib]);
  } finally {
    await server.stop();
  }
}

/** Round r runs the libraries rotated by r: each takes every position equally often. */
export function roundOrder(libs: readonly Lib[], round: number): Lib[] {
  const k = round % libs.length;
  return [...libs.slice(k), ...libs.slice(0, k)];
}

/** Runs every round and returns (and writes) the merged results. */
export async function runPeers(
  opts: PeersOptions,
): Promise<{ file: string; results: PeerResults }> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const libs = opts.libs ?? LIBS;
  // Fail before the first round when a peer cannot run at all.
  if (libs.includes('curator')) compileCuratorRunner();
  if (libs.includes('kazoo')) findKazooPython();
  if (libs.includes('zkit') && !existsSync(ZKIT_MAIN)) {
    throw new Error(`${ZKIT_MAIN} is missing: run npm run build first`);
  }

  const started = new Date().toISOString();
  const loadStart = loadavg();
  const work = mkdtempSync(join(tmpdir(), 'zkit-peers-'));
  const runs: PeerRun[] = [];
  const orders: Lib[][] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) {
      const order = roundOrder(libs, round);
      orders.push(order);
      for (const [position, lib] of order.entries()) {
        const t0 = Date.now();
        log(`round ${round + 1}/${opts.rounds}: ${LIB_LABELS[lib]}`);
        const dir = join(work, `r${round}-${lib}`);
        mkdirSync(dir, { recursive: true });
        try {
          const results =
            lib === 'zkit' ? await runZkit(opts, dir, log) : await runPeer(lib, opts, dir, log);
          runs.push({ round, position, lib, results });
          const failed = Object.entries(results.scenarios)
            .filter(([, r]) => 'error' in r)
            .map(([name, r]) => `${name}: ${String(r['error'])}`);
          for (const f of failed) log(`  ${LIB_LABELS[lib]} ${f}`);
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          runs.push({ round, position, lib, results: null, error });
          log(`  ${LIB_LABELS[lib]} failed: ${error}`);
        }
        log(`  ${LIB_LABELS[lib]} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const results: PeerResults = {
    kind: 'peers',
    started_utc: started,
    finished_utc: new Date().toISOString(),
    scale: opts.scale,
    rounds: opts.rounds,
    scenarios: opts.scenarios,
    libs,
    host: {
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      loadavg_start: loadStart,
      loadavg_end: loadavg(),
    },
    orders,
    runs,
    table: buildTable(runs),
  };
  mkdirSync(opts.outDir, { recursive: true });
  const stamp = started.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = join(opts.outDir, `peers-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

  const versions = libs
    .map((lib) => {
      const r = runs.find((x) => x.lib === lib && x.results)?.results;
      return `${LIB_LABELS[lib]} ${r?.lib_version ?? '?'} (${String(r?.['runtime'] ?? '?')})`;
    })
    .join(', ');
  log('');
  log(formatPeerTable(results.table, libs));
  log('');
  log(PEER_LEGEND);
  log(
    `${versions}; ${opts.rounds} round${opts.rounds === 1 ? '' : 's'}, scale ${opts.scale}; load average ` +
      `${loadStart.map((l) => l.toFixed(2)).join(' ')} at start, ` +
      `${results.host.loadavg_end.map((l) => l.toFixed(2)).join(' ')} at end ` +
      `(${results.host.cpus} CPUs)`,
  );
  return { file, results };
}
