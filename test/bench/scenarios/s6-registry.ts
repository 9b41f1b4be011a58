import { ServiceRegistry } from '@zkit/registry';
import { latency, number } from '../report.js';
import type { Scenario } from '../scenario.js';
import { now, nsToMs, summarize } from '../stats.js';

/**
 * S6 (SCENARIOS.md): service discovery with `@zkit/registry`. W watches service `api` through a
 * `ServiceCache` (first-seen time = its `added` event); R registers the instances one by one;
 * a fresh session Q then lists all of them cold with `instances('api')`.
 */

const BASE = '/bench/s6';
const VISIBLE_BOUND = 10_000;

export const s6: Scenario = {
  name: 'S6',
  title: 'service registry: register → visible in a cache, cold query',
  async run(ctx) {
    const n = ctx.param('instances', ctx.count(200, 20));
    const registrar = await ctx.client();
    const watcher = await ctx.client();
    await registrar.ensurePath(`${BASE}/api`);
    const r = new ServiceRegistry(registrar, { basePath: BASE });
    const w = new ServiceRegistry(watcher, { basePath: BASE });
    ctx.defer(() => r.close());
    ctx.defer(() => w.close());
    const cache = w.cache('api');
    await ctx.bounded('the cache to start', VISIBLE_BOUND, (signal) => cache.ready({ signal }));

    const seen = new Map<string, bigint>();
    let waiting: { id: string; resolve: () => void } | undefined;
    cache.on('added', (instance) => {
      const at = now();
      if (!seen.has(instance.id)) seen.set(instance.id, at);
      if (waiting?.id === instance.id) waiting.resolve();
    });
    const afterReturn: number[] = [];
    const afterStart: number[] = [];
    const call: number[] = [];
    let negative = 0;
    const ids = Array.from({ length: n }, (_, i) => `inst-${String(i).padStart(3, '0')}`);
    const register = await ctx.section('register', n, async () => {
      for (const [i, id] of ids.entries()) {
        const visible = new Promise<void>((resolve) => (waiting = { id, resolve }));
        const a = now();
        await r.register({ name: 'api', id, address: '127.0.0.1', port: 20_000 + i });
        const b = now();
        if (!seen.has(id)) {
          await ctx.bounded(`${id} to be visible`, VISIBLE_BOUND, (signal) =>
            Promise.race([
              visible,
              new Promise<never>((_, reject) =>
                signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
              ),
            ]),
          );
        }
        const s = seen.get(id) as bigint;
        if (s < b) negative++;
        afterReturn.push(nsToMs(s - b));
        afterStart.push(nsToMs(s - a));
        call.push(nsToMs(b - a));
      }
    });
    waiting = undefined;
    if (cache.instances().length !== n) {
      throw new Error(`the cache holds ${cache.instances().length} instances, not ${n}`);
    }

    const query = await ctx.client();
    const q = new ServiceRegistry(query, { basePath: BASE });
    // "Start its discovery object, untimed" (SCENARIOS.md): opens the connection that the
    // query's multi-read goes over, as Curator's ServiceDiscovery.start() is called first.
    await q.start();
    const cold = await ctx.section('cold_query', 1, async () => {
      const t = now();
      const found = await q.instances('api');
      const ms = nsToMs(now() - t);
      if (found.length !== n) throw new Error(`the cold query found ${found.length}, not ${n}`);
      return ms;
    });
    // Not part of the rule: the same listing read one node after another, for comparison.
    const sequential = await ctx.section('sequential_query', 1, async () => {
      const t = now();
      const children = await query.getChildren(`${BASE}/api`);
      let count = 0;
      for (const child of children) {
        JSON.parse((await query.get(`${BASE}/api/${child}`)).data.toString('utf8'));
        count++;
      }
      const ms = nsToMs(now() - t);
      if (count !== n) throw new Error(`the sequential query found ${count}, not ${n}`);
      return ms;
    });

    const visible = summarize(afterReturn);
    const fromStart = summarize(afterStart);
    const registerCall = summarize(call);
    ctx.row('visible after return p50 / p99 / mean', latency(visible, 'ms'), register.mntr);
    ctx.row('visible after call start p50 / p99', latency(fromStart, 'ms'));
    ctx.row('register call p50 / p99', latency(registerCall, 'ms'));
    ctx.row('negative samples', `${negative} of ${n}`);
    ctx.row(
      'requests per registration (with the watcher)',
      number(register.mntr.per_unit.packets_received),
      register.mntr,
    );
    ctx.row(`cold query of ${n}`, `${number(cold.value)} ms`, cold.mntr);
    ctx.row(
      `sequential reads of ${n} (comparison)`,
      `${number(sequential.value)} ms (${number(sequential.value / cold.value, 1)}× the cold query)`,
      sequential.mntr,
    );
    return {
      visible_after_return_ms: visible,
      visible_after_call_start_ms: fromStart,
      register_call_ms: registerCall,
      negative_samples: negative,
      cold_query_ms: cold.value,
      sequential_query_ms: sequential.value,
      cold_vs_sequential: sequential.value / cold.value,
    };
  },
};
