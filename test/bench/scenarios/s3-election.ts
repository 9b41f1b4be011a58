import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ZkClient } from '@zkit/core';
import { LeaderLatch } from '@zkit/election';
import { latency, number } from '../report.js';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { now, nsToMs, summarize } from '../stats.js';

/**
 * S3 and S3-crash (SCENARIOS.md): leader hand-off with `@zkit/election`'s `LeaderLatch`.
 * Relinquish = `close()` (silent, as Curator's default); notification = the `elected` event;
 * joined = `nodePath` set (a local field, no request).
 */

const SESSION_TIMEOUT = 4000;
const ELECT_BOUND = 30_000;

interface Candidate {
  readonly name: string;
  readonly client: ZkClient;
  latch: LeaderLatch;
}

/** Resolves once the latch has its election node, watching only the local field. */
async function joined(latch: LeaderLatch, signal: AbortSignal): Promise<void> {
  while (latch.nodePath === undefined) {
    signal.throwIfAborted();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export const s3: Scenario = {
  name: 'S3',
  title: 'leader hand-off (graceful), LeaderLatch',
  async run(ctx) {
    const k = ctx.param('candidates', 5);
    const rounds = ctx.param('rounds', ctx.count(30, 5));
    ctx.param('session_timeout_ms', SESSION_TIMEOUT);
    const path = '/bench/s3/election';

    // Every notification lands here: who, and when (on the event's own callback).
    let onElected: ((who: string, at: bigint) => void) | undefined;
    const candidates: Candidate[] = [];
    const join = (c: { name: string; client: ZkClient }): LeaderLatch => {
      const latch = new LeaderLatch(c.client, path, { id: c.name });
      latch.on('elected', () => onElected?.(c.name, now()));
      ctx.defer(() => latch.close());
      void latch.start().catch(() => undefined);
      return latch;
    };
    const nextLeader = (exclude: string | undefined) =>
      ctx.bounded(
        'a new leader',
        ELECT_BOUND,
        (signal) =>
          new Promise<{ who: string; at: bigint }>((resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
            onElected = (who, at) => {
              if (who === exclude) {
                reject(new Error(`${who} was notified as leader again right after leaving`));
              } else {
                onElected = undefined;
                resolve({ who, at });
              }
            };
          }),
      );

    const firstLeader = nextLeader(undefined);
    for (let i = 0; i < k; i++) {
      const client = await ctx.client({ sessionTimeout: SESSION_TIMEOUT });
      const candidate = { name: `c${i}`, client, latch: undefined as unknown as LeaderLatch };
      candidate.latch = join(candidate);
      candidates.push(candidate);
      await ctx.bounded('joining', ELECT_BOUND, (signal) => joined(candidate.latch, signal));
    }
    let leader = (await firstLeader).who;
    await sleep(100);

    const samples: number[] = [];
    const section = await ctx.section('handoff', rounds, async () => {
      for (let r = 0; r < rounds; r++) {
        const current = candidates.find((c) => c.name === leader) as Candidate;
        const next = nextLeader(current.name);
        const t0 = now();
        await current.latch.close();
        const { who, at } = await next;
        samples.push(nsToMs(at - t0));
        leader = who;
        current.latch = join(current);
        await ctx.bounded('rejoining', ELECT_BOUND, (signal) => joined(current.latch, signal));
        await sleep(20);
      }
    });
    const handoff = summarize(samples);
    ctx.row('hand-off p50 / p99 / mean', latency(handoff, 'ms'), section.mntr);
    ctx.row(
      'requests per hand-off (with rejoin)',
      number(section.mntr.per_unit.packets_received),
      section.mntr,
    );
    const floor = await handoffFloor(ctx, rounds);
    ctx.row('floor: the requests alone p50 / p99 / mean', latency(floor, 'ms'));
    return { handoff_ms: handoff, samples_ms: samples, floor_handoff_ms: floor };
  },
};

/**
 * The floor under any hand-off on this client and server, with no recipe code: session A deletes
 * its node, which session B watches; B lists the parent as soon as the watch fires, and the
 * sample ends with that listing's reply (the listing is what any election needs before it can
 * tell who leads, and where its fencing token comes from). Rounds pause as S3's do. Not part of
 * the scenario's definition; it shows how much of a hand-off is the server's.
 */
async function handoffFloor(ctx: ScenarioContext, rounds: number) {
  const leaving = await ctx.client({ sessionTimeout: SESSION_TIMEOUT });
  const watching = await ctx.client({ sessionTimeout: SESSION_TIMEOUT });
  const parent = '/bench/s3/floor';
  await leaving.create(parent, undefined, { parents: 'persistent' }).catch(() => undefined);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const node = await leaving.create(`${parent}/n-`, undefined, { mode: 'ephemeralSequential' });
    const watched = await watching.existsWatched(node);
    await sleep(20);
    const t0 = now();
    const deleted = leaving.delete(node);
    await watched.changed;
    await watching.getChildren(parent, { withStat: true });
    samples.push(nsToMs(now() - t0));
    await deleted;
  }
  return summarize(samples);
}

/** Reads the child's stdout until its `LEADER` line. */
function leaderLine(
  lines: AsyncIterable<string>,
  signal: AbortSignal,
): Promise<{ timeout: number; session: string }> {
  return (async () => {
    for await (const line of lines) {
      signal.throwIfAborted();
      const m = /^LEADER (\d+) (\S+)/.exec(line);
      if (m) return { timeout: Number(m[1]), session: m[2] as string };
    }
    throw new Error('the crash child exited before it was elected');
  })();
}

async function crashOnce(ctx: ScenarioContext, rep: number, k: number) {
  const path = `/bench/s3crash-${rep}/election`;
  const script = fileURLToPath(new URL('./s3-crash-child.js', import.meta.url));
  const child = spawn(process.execPath, [script, ctx.connectString, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  ctx.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout });
  const { timeout } = await ctx.bounded('the crash child to lead', ELECT_BOUND, (signal) =>
    leaderLine(lines, signal),
  );

  let first: ((at: bigint) => void) | undefined;
  const elected = new Promise<bigint>((resolve) => (first = resolve));
  const latches: LeaderLatch[] = [];
  for (let i = 0; i < k - 1; i++) {
    const client = await ctx.client({ sessionTimeout: SESSION_TIMEOUT });
    const latch = new LeaderLatch(client, path, { id: `c${i}` });
    latch.on('elected', () => first?.(now()));
    ctx.defer(() => latch.close());
    // start() resolves once the node exists and its place in line has been read.
    await ctx.bounded('joining', ELECT_BOUND, (signal) => latch.start({ signal }));
    latches.push(latch);
  }
  if (latches.some((l) => l.hasLeadership)) {
    throw new Error('an in-process candidate leads while the crash child is alive');
  }
  // Not part of the rule: a separate session watches the child's node, to split the failover
  // into the server's share (until the expired session's node is deleted) and the library's
  // (from that deletion to the next leader's notification).
  const observer = await ctx.client({ sessionTimeout: SESSION_TIMEOUT });
  const childNode = (await latches[0]!.participants())[0]?.path;
  if (childNode === undefined) throw new Error('the crash child has no election node');
  const deleted = observer.waitForDeletion(childNode).then(() => now());
  await sleep(200);
  const t0 = now();
  child.kill('SIGKILL');
  const t1 = await ctx.bounded('failover', ELECT_BOUND, () => elected);
  const td = await deleted;
  await exited;
  for (const latch of latches) await latch.close();
  return {
    failover_ms: nsToMs(t1 - t0),
    deletion_seen_ms: nsToMs(td - t0),
    deletion_to_elected_ms: nsToMs(t1 - td),
    negotiated_timeout_ms: timeout,
  };
}

export const s3Crash: Scenario = {
  name: 'S3-crash',
  title: 'leader crash failover (SIGKILL of a child process), LeaderLatch',
  async run(ctx) {
    const reps = ctx.param('reps', 3);
    const k = ctx.param('candidates', 5);
    ctx.param('session_timeout_ms', SESSION_TIMEOUT);
    const runs = [];
    for (let rep = 0; rep < reps; rep++) runs.push(await crashOnce(ctx, rep, k));
    const samples = runs.map((r) => r.failover_ms);
    const timeout = runs[0]?.negotiated_timeout_ms ?? SESSION_TIMEOUT;
    const withinTarget = samples.every((s) => s <= timeout + 1000);
    const s = summarize(samples);
    ctx.row(
      'failover samples',
      `${samples.map((v) => number(v / 1000, 2)).join(' / ')} s (timeout ${timeout} ms)`,
    );
    ctx.row(
      'failover min / median / max',
      `${[s.min, s.p50, s.max].map((v) => number(v / 1000, 2)).join(' / ')} s`,
    );
    ctx.row('every failover within timeout + 1 s', withinTarget ? 'yes' : 'NO');
    const library = runs.map((r) => r.deletion_to_elected_ms);
    ctx.row(
      'of which: node deleted → elected',
      `${library.map((v) => number(v, 2)).join(' / ')} ms`,
    );
    return {
      failover_ms: samples,
      deletion_seen_ms: runs.map((r) => r.deletion_seen_ms),
      deletion_to_elected_ms: library,
      failover: s,
      negotiated_timeout_ms: timeout,
      within_timeout_plus_1s: withinTarget,
    };
  },
};
