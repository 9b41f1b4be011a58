import { loadavg } from 'node:os';
import { ZkClient } from '@zkit/core';
import { BindingClient } from './binding.js';
import { startCpuMeter, type HostCpu } from './host-cpu.js';
import { diff, sectionDelta, type MntrCounters, type MntrSnapshot } from './mntr.js';
import { formatTable, TABLE_LEGEND, type TableLine } from './report.js';
import {
  BoundExceededError,
  type ClientOptions,
  type Comparison,
  type Scenario,
  type ScenarioContext,
  type Section,
} from './scenario.js';
import { now, nsToS } from './stats.js';

/** What the harness needs from a server (`@zkit/testing`'s `ZooKeeperServer` fits). */
export interface BenchServer {
  readonly connectString: string;
  /** The server JVM's pid, for `host_cpu.server_cpu_s`. */
  readonly pid: number | undefined;
  mntr(): Promise<MntrSnapshot>;
}

export interface BenchOptions {
  server: BenchServer;
  scenarios: readonly Scenario[];
  /** Figures derived from several scenarios' results, computed after the run. */
  comparisons?: readonly Comparison[];
  scale: number;
  /** Library version written as `lib_version`. */
  libVersion: string;
  log?: (line: string) => void;
}

export interface BenchResults {
  lib: string;
  lib_version: string;
  runtime: string;
  started_utc: string;
  connect: string;
  scale: number;
  server_version: string | null;
  params: Record<string, Record<string, number | string | boolean>>;
  mntr_overhead_per_call: MntrCounters;
  scenarios: Record<string, Record<string, unknown>>;
  comparisons: Record<string, Record<string, unknown>>;
  total_wall_s: number;
  host_cpu: HostCpu;
  /** `os.loadavg()` (1, 5, 15 min) when the run started and when it ended. */
  loadavg_start: number[];
  loadavg_end: number[];
  /** The printed comparison rows (figure, value), for summaries over several runs. */
  comparison_rows: Record<string, [figure: string, value: string][]>;
}

const SESSION_TIMEOUT = 10_000;
const CONNECT_BOUND = 30_000;

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

class Context implements ScenarioContext {
  readonly sessionTimeout = SESSION_TIMEOUT;
  readonly params: Record<string, number | string | boolean> = {};
  readonly rows: TableLine[] = [];
  readonly recorded: Record<string, unknown> = {};
  private readonly cleanups: (() => unknown)[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly server: BenchServer,
    private readonly overhead: MntrCounters,
    readonly scale: number,
  ) {}

  get connectString(): string {
    return this.server.connectString;
  }

  count(base: number, floor: number): number {
    return Math.max(floor, Math.round(base * this.scale));
  }

  param<T extends number | string | boolean>(key: string, value: T): T {
    this.params[key] = value;
    return value;
  }

  row(figure: string, value: string, mntr?: Section<unknown>['mntr']): void {
    this.rows.push({
      scenario: this.scenario.name,
      row: mntr ? { figure, value, mntr } : { figure, value },
    });
  }

  async section<T>(name: string, units: number, fn: () => Promise<T>): Promise<Section<T>> {
    const section = await this.measure(units, fn);
    this.recorded[`mntr_${name}`] = section.mntr;
    return section;
  }

  async measure<T>(units: number, fn: () => Promise<T>): Promise<Section<T>> {
    const before = await this.server.mntr();
    const t0 = now();
    const value = await fn();
    const wall = now() - t0;
    const after = await this.server.mntr();
    const mntr = sectionDelta(before, after, this.overhead, units);
    return { value, wall_ns: wall, wall_s: nsToS(wall), mntr };
  }

  async client(options?: ClientOptions): Promise<ZkClient> {
    const client = new ZkClient(this.connectString, {
      sessionTimeout: this.sessionTimeout,
      ...options,
    });
    this.defer(() => client.close());
    await this.bounded('ZkClient start', CONNECT_BOUND, () => client.start());
    return client;
  }

  async binding(sessionTimeout = this.sessionTimeout): Promise<BindingClient> {
    const client = await BindingClient.connect(this.connectString, sessionTimeout, CONNECT_BOUND);
    this.defer(() => client.close());
    return client;
  }

  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  bounded<T>(what: string, ms: number, wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new BoundExceededError(what, ms);
        controller.abort(err);
        reject(err);
      }, ms);
      wait(controller.signal).then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  async close(): Promise<string[]> {
    const errors: string[] = [];
    while (this.cleanups.length > 0) {
      const cleanup = this.cleanups.pop() as () => unknown;
      try {
        await cleanup();
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    return errors;
  }
}

/** One line saying how busy the host was besides the harness and the server. */
function noiseLine(label: string, cpu: HostCpu): string {
  const fmt = (v: number | null, unit: string) => (v === null ? 'n/a' : `${v.toFixed(2)}${unit}`);
  return (
    `noise ${label}: harness ${fmt(cpu.harness_cpu_s, ' s')} CPU, server ${fmt(cpu.server_cpu_s, ' s')}, ` +
    `other processes ${fmt(cpu.other_cpu_per_wall_s, ' cores')}, irq ${fmt(cpu.irq_softirq_s, ' s')}, ` +
    `steal ${fmt(cpu.steal_s, ' s')}`
  );
}

/** Runs the scenarios in order against one server and collects everything for the JSON file. */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const { server, scenarios, scale } = options;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const startedUtc = new Date().toISOString();
  const serverPid = server.pid ?? null;
  const stopRunMeter = startCpuMeter(serverPid);
  const t0 = now();

  // The cost of one mntr probe, with no session open: subtracted from every section.
  const first = await server.mntr();
  const second = await server.mntr();
  const overhead = diff(first, second);
  const version = typeof first['zk_version'] === 'string' ? first['zk_version'] : null;

  const results: BenchResults = {
    lib: 'zkit',
    lib_version: options.libVersion,
    runtime: `node ${process.version}`,
    started_utc: startedUtc,
    connect: server.connectString,
    scale,
    server_version: version,
    params: {},
    mntr_overhead_per_call: overhead,
    scenarios: {},
    comparisons: {},
    total_wall_s: 0,
    host_cpu: stopRunMeter(),
    loadavg_start: loadavg(),
    loadavg_end: [],
    comparison_rows: {},
  };
  const lines: TableLine[] = [];

  for (const scenario of scenarios) {
    log(`${scenario.name}: ${scenario.title}`);
    const ctx = new Context(scenario, server, overhead, scale);
    const stopMeter = startCpuMeter(serverPid);
    const s0 = now();
    let outcome: Record<string, unknown>;
    try {
      outcome = { ...(await scenario.run(ctx)) };
    } catch (err) {
      outcome = { error: errorText(err) };
      ctx.row('error', errorText(err));
      log(`${scenario.name}: ${errorText(err)}`);
    }
    const cleanupErrors = await ctx.close();
    const wall = nsToS(now() - s0);
    results.params[scenario.name] = ctx.params;
    results.scenarios[scenario.name] = {
      ...ctx.recorded,
      ...outcome,
      ...(cleanupErrors.length > 0 ? { cleanup_errors: cleanupErrors } : {}),
      scenario_wall_s: wall,
      host_cpu: stopMeter(),
    };
    lines.push(...ctx.rows);
  }

  for (const comparison of options.comparisons ?? []) {
    const derived = comparison.derive(results.scenarios);
    if (derived === null) continue;
    results.comparisons[comparison.name] = derived.figures;
    results.comparison_rows[comparison.name] = derived.rows;
    for (const [figure, value] of derived.rows) {
      lines.push({ scenario: comparison.name, row: { figure, value } });
    }
  }

  results.total_wall_s = nsToS(now() - t0);
  results.host_cpu = stopRunMeter();
  results.loadavg_end = loadavg();
  log('');
  log(formatTable(lines));
  log('');
  log(TABLE_LEGEND);
  log(noiseLine('whole run', results.host_cpu));
  for (const [name, r] of Object.entries(results.scenarios)) {
    log(noiseLine(name, r['host_cpu'] as HostCpu));
  }
  log(
    `load average (1, 5, 15 min): ${results.loadavg_start.map((l) => l.toFixed(2)).join(' ')} ` +
      `at start, ${results.loadavg_end.map((l) => l.toFixed(2)).join(' ')} at end`,
  );
  return results;
}
