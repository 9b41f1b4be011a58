import { spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer } from '@zkit/testing';
import { number } from '../report.js';
import type { Scenario, ScenarioContext } from '../scenario.js';

/**
 * S0-idle — many idle sessions in one process, per transport: how long it takes to connect them
 * all, what each costs in memory, threads and CPU while idle. Each transport runs in its own
 * child process (`s0-idle-child.ts`), so neither inherits the other's heap, threads or loaded
 * addon. Each transport is measured twice (wire, native, native, wire, after an untimed pass of
 * each that warms the server up) and the figures are the means of its two passes.
 *
 * Not in SCENARIOS.md. It runs on a server of its own, the only one whose config departs from
 * the untuned one: ZooKeeper allows 60 connections per client address by default
 * (`maxClientCnxns`), and all these sessions come from 127.0.0.1, so that server allows
 * `sessions + 10`. The shared server of the other scenarios keeps the default.
 */

// Runs from test/dist/bench/scenarios/ (built) or test/bench/scenarios/ (vitest, from source);
// the child is always the built one.
const here = dirname(fileURLToPath(import.meta.url));
const benchDir = dirname(here);
const testRoot =
  basename(dirname(benchDir)) === 'dist' ? join(benchDir, '..', '..') : join(benchDir, '..');
const CHILD = join(testRoot, 'dist', 'bench', 'scenarios', 's0-idle-child.js');

/** What one child reports (see s0-idle-child.ts). */
export interface IdleFigures {
  transport: 'wire' | 'native';
  sessions: number;
  connect_all_ms: number;
  /** Host-wide connections dropped for a full accept queue while connecting (Linux), else null. */
  listen_overflows_while_connecting: number | null;
  close_all_ms: number;
  before: { rss: number; heap_used: number; external: number; threads: number | null };
  connected: { rss: number; heap_used: number; external: number; threads: number | null };
  after_idle: { rss: number; heap_used: number; external: number; threads: number | null };
  rss_per_session_bytes: number;
  heap_per_session_bytes: number;
  external_per_session_bytes: number;
  idle_s: number;
  idle_cpu_ms: number;
  idle_cpu_ms_per_s: number;
  idle_requests_per_session_s: number;
}

const CHILD_BOUND_MS = 180_000;

function runChild(
  ctx: ScenarioContext,
  transport: 'wire' | 'native',
  connectString: string,
  sessions: number,
  idleMs: number,
): Promise<IdleFigures> {
  return ctx.bounded(`S0-idle ${transport} child`, CHILD_BOUND_MS, (signal) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', CHILD, transport, connectString, String(sessions), String(idleMs)],
      { stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise<IdleFigures>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, sig) => {
        if (code !== 0) {
          reject(new Error(`S0-idle ${transport} child exited ${code ?? sig}: ${err.trim()}`));
          return;
        }
        try {
          resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as IdleFigures);
        } catch {
          reject(new Error(`S0-idle ${transport} child printed no figures: ${out} ${err}`));
        }
      });
    });
  });
}

/** The mean of every number in the passes' figures (same shape; other values from the first). */
function mean(passes: readonly IdleFigures[]): IdleFigures {
  const average = (values: unknown[]): unknown => {
    const [first] = values;
    if (typeof first === 'number') {
      return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
    }
    if (first !== null && typeof first === 'object') {
      return Object.fromEntries(
        Object.keys(first).map((k) => [
          k,
          average(values.map((v) => (v as Record<string, unknown>)[k])),
        ]),
      );
    }
    return first;
  };
  return average([...passes]) as IdleFigures;
}

const mb = (bytes: number) => `${number(bytes / 2 ** 20, 1)} MB`;
const kb = (bytes: number) => `${number(bytes / 1024, 1)} KB`;

export const s0Idle: Scenario = {
  name: 'S0-idle',
  title: 'idle sessions in one process, per transport (a server of its own)',
  async run(ctx) {
    const sessions = ctx.param('sessions', ctx.count(1000, 10));
    const idleMs = ctx.param('idle_ms', ctx.count(10_000, 500));
    const maxClientCnxns = ctx.param('server_maxClientCnxns', sessions + 10);
    ctx.param('session_timeout_ms', ctx.sessionTimeout);
    // A fresh server is slow to accept its first thousand connections: one untimed pass of each
    // transport warms it, then the measured passes run wire, native, native, wire.
    ctx.param('order', 'warm-up native, wire; measured wire, native, native, wire');

    const server = await ZooKeeperServer.start({ testDefaults: false, config: { maxClientCnxns } });
    ctx.defer(() => server.stop());

    const pass = (transport: 'wire' | 'native', idle: number) =>
      runChild(ctx, transport, server.connectString, sessions, idle);
    const warmup = [await pass('native', 0), await pass('wire', 0)];
    const passes: Record<'wire' | 'native', IdleFigures[]> = { wire: [], native: [] };
    for (const transport of ['wire', 'native', 'native', 'wire'] as const) {
      passes[transport].push(await pass(transport, idleMs));
    }
    const figures = { wire: mean(passes.wire), native: mean(passes.native) };
    const { wire, native } = figures;
    const both = (f: (x: IdleFigures) => string) => `${f(wire)} / ${f(native)}`;
    const threads = (t: number | null) => (t === null ? 'n/a' : String(t));
    ctx.row(
      `connect ${sessions} sessions, wire / native`,
      both((x) => `${number(x.connect_all_ms, 0)} ms`),
    );
    ctx.row(
      'RSS before → connected, wire / native',
      both((x) => `${mb(x.before.rss)} → ${mb(x.connected.rss)}`),
    );
    ctx.row(
      'per session: RSS / JS heap, wire / native',
      both((x) => `${kb(x.rss_per_session_bytes)} / ${kb(x.heap_per_session_bytes)}`),
    );
    ctx.row(
      `CPU per idle second (${number(idleMs / 1000, 1)} s), wire / native`,
      both((x) => `${number(x.idle_cpu_ms_per_s, 1)} ms`),
    );
    ctx.row(
      'requests per session per idle second, wire / native',
      both((x) => number(x.idle_requests_per_session_s, 3)),
    );
    ctx.row(
      'threads before → connected, wire / native',
      both((x) => `${threads(x.before.threads)} → ${threads(x.connected.threads)}`),
    );
    return {
      wire,
      native,
      passes,
      warmup_connect_all_ms: Object.fromEntries(warmup.map((w) => [w.transport, w.connect_all_ms])),
      ratio: {
        connect_all_ms: wire.connect_all_ms / native.connect_all_ms,
        rss_per_session: wire.rss_per_session_bytes / native.rss_per_session_bytes,
        idle_cpu_per_s: wire.idle_cpu_ms_per_s / native.idle_cpu_ms_per_s,
      },
    };
  },
};
