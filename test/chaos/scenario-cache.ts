import { ChildrenCache, TreeCache, type Cache } from '@zkit/cache';
import { NoNodeError, NodeExistsError, ZkClient, join } from '@zkit/core';
import { expireSession, FaultProxy, fourLetterWord, waitFor } from '@zkit/testing';
import {
  planFaults,
  recoveryAfter,
  runFaults,
  SESSION_TIMEOUT,
  type FaultKind,
  type FaultRecord,
  type Recovery,
} from './harness.js';
import { Random } from './random.js';
import type { ChaosContext } from './scenario-mutex.js';

export interface CacheChaosOptions {
  /** Clients writing the tree all along (never faulted themselves). */
  readonly writers: number;
  readonly faults: readonly FaultKind[];
}

export interface CacheChaosResult {
  /** Writes the writers made (whatever their outcome). */
  readonly writes: number;
  /** Changes the caches reported, all together. */
  readonly changes: number;
  readonly convergences: readonly Recovery[];
  readonly boundMs: number;
  /**
   * Changes that went back in zxid order, or disagreed with the view (an `added` for a node
   * already there, an `updated` or `removed` for one that was not).
   */
  readonly violations: readonly string[];
  /** `error` events of the caches. */
  readonly cacheErrors: readonly string[];
  /**
   * Watches the sessions of the caches on a recursive watch still held on the server after
   * close (should be none).
   */
  readonly watchesLeft: number;
  readonly faults: readonly FaultRecord[];
  readonly durationMs: number;
}

interface Observer {
  readonly name: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
  readonly cache: Cache;
  /** Levels below the root the cache keeps. */
  readonly depth: number;
  /** Whether the cache keeps the root node itself. */
  readonly withRoot: boolean;
}

const ROOT = '/chaos/cache';
/** The paths writers pick from: three levels of a few names each. */
function universe(): string[] {
  const out: string[] = [];
  for (const a of ['a', 'b', 'c', 'd'])
    for (const b of ['', '/x', '/y', '/z'])
      for (const c of b === '' ? [''] : ['', '/1', '/2']) out.push(`${ROOT}/${a}${b}${c}`);
  return out;
}

/**
 * Caches under faults: writers create, change and delete nodes of a tree all along while the
 * schedule restarts servers, partitions, drops and expires the caches' clients. Each cache
 * (a whole-tree `TreeCache`, a depth-2 `TreeCache` keeping only some data, a `ChildrenCache` on
 * one-shot watches)
 * checks every change it reports against its own view and zxid order. After each fault the
 * writers pause and every cache must equal the server's tree, read in full, within a bound.
 */
export async function runCacheChaos(
  ctx: ChaosContext,
  options: CacheChaosOptions,
): Promise<CacheChaosResult> {
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'cache');
  const paths = universe();
  const observers: Observer[] = [];
  const writers: ZkClient[] = [];
  const violations: string[] = [];
  const cacheErrors: string[] = [];
  const convergences: Recovery[] = [];
  let writes = 0;
  let changes = 0;
  // A cut-off cache client comes back with a new session after the server expired the old one,
  // then reads the tree again.
  const boundMs = 2 * SESSION_TIMEOUT + 2000;
  let paused = false;
  let stopped = false;
  const running: Promise<void>[] = [];
  const idle = new Set<number>();

  const write = async (client: ZkClient, r: Random): Promise<void> => {
    const path = r.pick(paths);
    const roll = r.next();
    writes += 1;
    try {
      if (roll < 0.45) {
        await client.create(path, String(writes), { parents: 'persistent' });
      } else if (roll < 0.8) {
        await client.set(path, String(writes));
      } else {
        await client.deleteRecursive(path);
      }
    } catch (error) {
      // The schedule restarts servers under the writers too; the server's tree is the truth.
      if (!(error instanceof NodeExistsError) && !(error instanceof NoNodeError)) return;
    }
  };

  const observer = async (
    name: string,
    make: (client: ZkClient) => Cache,
    depth: number,
    withRoot: boolean,
  ): Promise<Observer> => {
    const proxy = await FaultProxy.start(ctx.ensemble.connectString);
    const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
    await client.start();
    const cache = make(client);
    const last = new Map<string, { czxid: bigint; mzxid: bigint }>();
    const present = new Set<string>();
    cache.on('change', (change) => {
      changes += 1;
      if (change.type === 'added' || change.type === 'updated') {
        const { czxid, mzxid } = change.node.stat;
        const before = last.get(change.path);
        if (before && (czxid < before.czxid || (czxid === before.czxid && mzxid <= before.mzxid))) {
          violations.push(`${name}: ${change.type} ${change.path} went back in zxid order`);
        }
        last.set(change.path, { czxid, mzxid });
        if (change.type === 'added' && present.has(change.path)) {
          violations.push(`${name}: added ${change.path}, already in the view`);
        }
        if (change.type === 'updated' && !present.has(change.path)) {
          violations.push(`${name}: updated ${change.path}, not in the view`);
        }
        present.add(change.path);
      } else if (change.type === 'removed') {
        if (!present.delete(change.path)) {
          violations.push(`${name}: removed ${change.path}, not in the view`);
        }
      }
    });
    cache.on('error', (error) => cacheErrors.push(`${name}: ${String(error)}`));
    await cache.start();
    return { name, proxy, client, cache, depth, withRoot };
  };

  /** The server's tree as each observer should hold it: path → data ('' where not kept). */
  const serverView = async (o: Observer): Promise<string> => {
    await ctx.admin.sync(ROOT);
    const out: [string, string][] = [];
    const visit = async (path: string, level: number): Promise<void> => {
      try {
        const { data } = await ctx.admin.get(path);
        if (level > 0 || o.withRoot) out.push([path, keeps(o, path) ? data.toString('utf8') : '']);
        if (level >= o.depth) return;
        for (const name of await ctx.admin.getChildren(path))
          await visit(join(path, name), level + 1);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    };
    await visit(ROOT, 0);
    return JSON.stringify(out.sort(([a], [b]) => (a < b ? -1 : 1)));
  };
  const cacheView = (o: Observer): string =>
    JSON.stringify(o.cache.nodes().map((n) => [n.path, n.data?.toString('utf8') ?? '']));

  const converged = async (): Promise<boolean> => {
    for (const o of observers) if (cacheView(o) !== (await serverView(o))) return false;
    return true;
  };

  const quiet = async (): Promise<void> => {
    paused = true;
    await waitFor(() => idle.size === writers.length, { message: 'the writers to pause' });
  };

  try {
    await ctx.admin.ensurePath(ROOT);
    observers.push(await observer('tree', (c) => new TreeCache(c, ROOT), Infinity, true));
    observers.push(
      await observer(
        'depth-2',
        (c) => new TreeCache(c, ROOT, { depth: 2, dataFilter: (p) => !p.includes('/y') }),
        2,
        true,
      ),
    );
    // One-shot watches, as on a server before 3.6.
    observers.push(
      await observer(
        'children',
        (c) => new ChildrenCache(c, ROOT, { recursiveWatch: false }),
        1,
        false,
      ),
    );
    for (let i = 0; i < options.writers; i += 1) {
      const client = new ZkClient(ctx.ensemble.connectString, { sessionTimeout: 10_000 });
      await client.start();
      writers.push(client);
      const r = Random.derive(ctx.seed, `cache-writer-${i}`);
      running.push(
        (async () => {
          while (!stopped) {
            if (paused) {
              idle.add(i);
              await new Promise((resolve) => setTimeout(resolve, 20));
              continue;
            }
            idle.delete(i);
            await write(client, r);
          }
        })(),
      );
    }

    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r) => r.pick(observers),
        expire: async (r) => {
          const target = r.pick(observers);
          await expireSession(target.client, { connectString: ctx.ensemble.connectString });
          return target.name;
        },
        afterFault: async (record) => {
          await quiet();
          convergences.push(
            await recoveryAfter(record, converged, boundMs, {
              interval: 50,
              what: 'every cache to equal the server tree',
            }),
          );
          paused = false;
        },
      },
      random,
      ctx.log,
    );

    stopped = true;
    await Promise.all(running);
    await Promise.all(observers.map((o) => o.cache.close()));
    // One-shot watches stay on the server until they fire: only the recursive ones are counted.
    const sessions = new Set(
      observers
        .filter((o) => o.name !== 'children')
        .map((o) => BigInt(`0x${o.client.sessionId ?? '0'}`)),
    );
    let watchesLeft = 0;
    for (const server of ctx.ensemble.servers) {
      watchesLeft += await watchesOf(server.connectString, sessions).catch(() => 0);
    }
    return {
      writes,
      changes,
      convergences,
      boundMs,
      violations,
      cacheErrors,
      watchesLeft,
      faults,
      durationMs: Date.now() - started,
    };
  } finally {
    stopped = true;
    await Promise.all(running);
    for (const o of observers) o.proxy.heal();
    await Promise.all(observers.map((o) => o.cache.close()));
    await Promise.all([
      ...observers.map((o) => o.client.close()),
      ...writers.map((w) => w.close()),
    ]);
    await Promise.all(observers.map((o) => o.proxy.close()));
    await ctx.admin.deleteRecursive(ROOT).catch(() => undefined);
  }
}

/** Whether the observer keeps the data of `path`. */
function keeps(o: Observer, path: string): boolean {
  return o.name !== 'depth-2' || !path.includes('/y');
}

/** How many watches the server holds for the given sessions (`wchc`). */
async function watchesOf(connectString: string, sessions: ReadonlySet<bigint>): Promise<number> {
  const text = await fourLetterWord(connectString, 'wchc');
  let mine = false;
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('0x')) mine = sessions.has(BigInt(line.trim()));
    else if (mine && line.trim() !== '') n += 1;
  }
  return n;
}
