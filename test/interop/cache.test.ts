import { TreeCache, type CacheChange } from '@zkit/cache';
import { NoNodeError, join, type ZkClient } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { startCuratorAgent } from './curator-agent.js';

// A tree written by Curator is followed by zkit's TreeCache, and Curator's own CuratorCache and
// zkit's TreeCache agree on a tree, whoever writes it. One agent serves every check.

async function serverTree(client: ZkClient, path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (at: string): Promise<void> => {
    try {
      out[at] = (await client.get(at)).data.toString('utf8');
      for (const name of await client.getChildren(at)) await visit(join(at, name));
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  };
  await visit(path);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function view(cache: TreeCache): Record<string, string> {
  return Object.fromEntries(cache.nodes().map((n) => [n.path, n.data?.toString('utf8') ?? '']));
}

test('interop - zkit TreeCache follows a tree Curator writes, and agrees with Curator CuratorCache', async ({
  zk,
}) => {
  const client = await zk.client();
  const agent = await startCuratorAgent(zk.connectString);
  try {
    await agent.send('tree.write', '/app/config', 'v1');
    await agent.send('tree.write', '/app/config/db', 'pg1');
    await agent.send('tree.write', '/app/config/cache', 'redis1');
    await using cache = new TreeCache(client, '/app');
    const changes: CacheChange[] = [];
    cache.on('change', (c) => changes.push(c));
    await cache.start();
    await agent.send('treecache.start', '/app');
    expect(view(cache)).toEqual(await serverTree(client, '/app'));

    // Curator writes; zkit's cache converges, change by change.
    await agent.send('tree.write', '/app/config/db', 'pg2');
    await agent.send('tree.write', '/app/feature/flags/dark', 'on');
    await agent.send('tree.delete', '/app/config/cache');
    const expected = await serverTree(client, '/app');
    await waitFor(() => JSON.stringify(view(cache)) === JSON.stringify(expected), {
      message: 'the zkit cache to converge on the Curator-written tree',
    });
    const lines = changes
      .filter((c) => c.type !== 'initialized')
      .map((c) => ('path' in c ? `${c.type} ${c.path}` : c.type));
    expect(lines.slice(-5).sort()).toEqual([
      'added /app/feature',
      'added /app/feature/flags',
      'added /app/feature/flags/dark',
      'removed /app/config/cache',
      'updated /app/config/db',
    ]);

    // zkit writes; both caches agree with the server.
    await client.set('/app/config', 'v2');
    await client.create('/app/config/queue', 'kafka');
    const final = await serverTree(client, '/app');
    await waitFor(() => JSON.stringify(view(cache)) === JSON.stringify(final), {
      message: 'the zkit cache',
    });
    await waitFor(
      async () => {
        const curator = (await agent.send('treecache.dump', '/app')).nodes as Record<
          string,
          string
        >;
        return JSON.stringify(curator) === JSON.stringify(final);
      },
      { message: "Curator's cache" },
    );
  } finally {
    await agent.close();
  }
});
