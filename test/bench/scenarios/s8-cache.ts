import v8 from 'node:v8';
import vm from 'node:vm';
import { TreeCache } from '@zkit/cache';
import type { ZkClient } from '@zkit/core';
import { latency, number } from '../report.js';
import type { Scenario } from '../scenario.js';
import { now, nsToMs, summarize } from '../stats.js';

/**
 * S8 (SCENARIOS.md): a `TreeCache` of `@zkit/cache` over a tree of 10,000 nodes (100 parents of
 * 99 leaves, 32 bytes of data each). A fresh session loads it (time, requests, bytes); then a
 * writer changes one leaf at a time and the time from the `set` returning to the cache's
 * `updated` event is taken (requests per change: the server's count per change minus the
 * writer's `set`); heap per cached node from the heap used before and after the load, each after
 * a full garbage collection.
 */

const ROOT = '/bench/s8';
const FANOUT = 100;
const VISIBLE_BOUND = 10_000;
const LOAD_BOUND = 120_000;

/** Node's `gc`, exposed at run time (the harness is not started with `--expose-gc`). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

async function build(client: ZkClient, parents: number, leaves: number): Promise<number> {
  const data = Buffer.alloc(32, 'x');
  await client.ensurePath(ROOT);
  await Promise.all(
    Array.from({ length: parents }, (_, p) => client.create(`${ROOT}/p${pad(p, 3)}`, data)),
  );
  let pending: Promise<unknown>[] = [];
  for (let p = 0; p < parents; p++) {
    for (let c = 0; c < leaves; c++) {
      pending.push(client.create(`${ROOT}/p${pad(p, 3)}/c${pad(c, 2)}`, data));
      if (pending.length === 1000) {
        await Promise.all(pending);
        pending = [];
      }
    }
  }
  await Promise.all(pending);
  return 1 + parents + parents * leaves;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export const s8: Scenario = {
  name: 'S8',
  title: 'tree cache: initial load of 10,000 nodes, change → event',
  async run(ctx) {
    const target = ctx.param('nodes', ctx.count(10_000, 200));
    const parents = ctx.param('parents', Math.max(2, Math.round(target / FANOUT)));
    const leaves = ctx.param('leaves_per_parent', FANOUT - 1);
    const changes = ctx.param('changes', ctx.count(500, 50));
    const writer = await ctx.client();
    ctx.defer(() => writer.deleteRecursive(ROOT));
    const nodes = await build(writer, parents, leaves);

    const gc = collector();
    const loader = await ctx.client();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let cache: TreeCache | undefined;
    const load = await ctx.section('load', 1, async () => {
      const t = now();
      cache = new TreeCache(loader, ROOT);
      const c = cache;
      await ctx.bounded('the cache to load', LOAD_BOUND, () => c.start());
      return nsToMs(now() - t);
    });
    const loaded = cache as TreeCache;
    ctx.defer(() => loaded.close());
    if (loaded.size !== nodes)
      throw new Error(`the cache holds ${loaded.size} nodes, not ${nodes}`);
    gc();
    const heapPerNode = (process.memoryUsage().heapUsed - heapBefore) / nodes;

    const seen = new Map<string, bigint>();
    let waiting: { path: string; resolve: () => void } | undefined;
    loaded.on('updated', (node) => {
      seen.set(node.path, now());
      if (waiting?.path === node.path) waiting.resolve();
    });
    const afterReturn: number[] = [];
    const afterStart: number[] = [];
    const change = await ctx.section('change', changes, async () => {
      for (let i = 0; i < changes; i++) {
        const path = `${ROOT}/p${pad(i % parents, 3)}/c${pad(Math.floor(i / parents) % leaves, 2)}`;
        seen.delete(path);
        const visible = new Promise<void>((resolve) => (waiting = { path, resolve }));
        const a = now();
        await writer.set(path, Buffer.from(`change ${String(i).padStart(25, '0')}`));
        const b = now();
        if (!seen.has(path)) {
          await ctx.bounded(`${path} to change in the cache`, VISIBLE_BOUND, (signal) =>
            Promise.race([
              visible,
              new Promise<never>((_, reject) =>
                signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
              ),
            ]),
          );
        }
        const s = seen.get(path) as bigint;
        afterReturn.push(nsToMs(s - b));
        afterStart.push(nsToMs(s - a));
      }
    });
    waiting = undefined;

    const visible = summarize(afterReturn);
    const fromStart = summarize(afterStart);
    const loadRequests = load.mntr.total.packets_received;
    const loadBytes = load.mntr.total.response_bytes;
    const perChange = change.mntr.per_unit.packets_received - 1;
    ctx.row(`initial load of ${nodes} nodes`, `${number(load.value, 1)} ms`, load.mntr);
    ctx.row('initial load requests / response bytes', `${loadRequests} / ${loadBytes}`);
    ctx.row('change → updated event p50 / p99 / mean', latency(visible, 'ms'), change.mntr);
    ctx.row('change → updated event from the set call p50 / p99', latency(fromStart, 'ms'));
    ctx.row('cache requests per change (server count minus the set)', number(perChange));
    ctx.row('heap per cached node', `${number(heapPerNode, 0)} B`);
    return {
      nodes,
      load_ms: load.value,
      load_requests: loadRequests,
      load_response_bytes: loadBytes,
      change_to_event_ms: visible,
      change_to_event_from_call_ms: fromStart,
      cache_requests_per_change: perChange,
      heap_bytes_per_node: heapPerNode,
    };
  },
};
