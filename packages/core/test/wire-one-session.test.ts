import { describe, expect } from 'vitest';
import { test, type ZooKeeperFixture } from '@zkit/testing/vitest';
import { ZooKeeperServer, expireSession, fourLetterWord, waitFor } from '@zkit/testing';
import {
  ZkClient,
  getChildrenData,
  openExtraConnection,
  watchRecursive,
  type RecursiveWatchEvent,
} from '@zkit/core';

function describeEvent(e: RecursiveWatchEvent): string {
  return 'path' in e ? `${e.type} ${e.path}` : e.type;
}

/** The server's count of watches, all sessions together (`wchs`). */
async function serverWatches(connectString: string): Promise<number> {
  const text = await fourLetterWord(connectString, 'wchs');
  const match = /Total watches:\s*(\d+)/.exec(text);
  if (!match) throw new Error(`no watch count in ${JSON.stringify(text)}`);
  return Number(match[1]);
}

/**
 * A wire client behind a fault proxy (session timeout 10 s) watching `/svc` recursively, with
 * every event it gets in `seen`, and a writer connected directly.
 */
async function watchedThroughProxy(zk: ZooKeeperFixture) {
  const proxy = await zk.proxy();
  const client = await zk.client({
    connectString: proxy.connectString,
    transport: 'wire',
    sessionTimeout: 10_000,
  });
  const writer = await zk.client();
  const seen: string[] = [];
  const watch = watchRecursive(client, '/svc', (e) => seen.push(describeEvent(e)));
  await watch.ready();
  return { proxy, client, writer, seen, watch };
}

describe('one session on the wire transport', () => {
  test('one session - recursive watches, bulk reads and getAcl travel on the client’s own connection', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, transport: 'wire' });
    const writer = await zk.client();
    await writer.create('/svc');
    for (const name of ['a', 'b', 'c']) await writer.create(`/svc/${name}`, name);
    const seen: string[] = [];
    await using watch = watchRecursive(client, '/svc', (e) => seen.push(describeEvent(e)));
    await watch.ready();
    await openExtraConnection(client);
    const children = await getChildrenData(client, '/svc');
    expect(children.map((c) => `${c.name}=${c.data.toString()}`)).toEqual(['a=a', 'b=b', 'c=c']);
    expect((await client.getAcl('/svc/a')).acl).toEqual([
      { perms: 31, scheme: 'world', id: 'anyone' },
    ]);
    await writer.set('/svc/b', 'B');
    await waitFor(() => seen.includes('dataChanged /svc/b'));
    expect(seen).toEqual(['dataChanged /svc/b']);
    expect(proxy.connections).toBe(1);
  });

  test('one session - a recursive watch survives a connection drop and a session expiry', async ({
    zk,
  }) => {
    const { proxy, client, writer, seen, watch } = await watchedThroughProxy(zk);

    proxy.drop();
    await waitFor(() => seen.includes('resumed'));
    expect(seen).toEqual(['interrupted', 'resumed']);
    await writer.create('/svc');
    await waitFor(() => seen.includes('created /svc'));

    seen.length = 0;
    const before = client.sessionId;
    await expireSession(client);
    await waitFor(() => client.sessionId !== before && watch.active && seen.at(-1) === 'resumed');
    // The client may win its old session back once before it expires: each interruption is
    // followed by its resumption.
    expect(seen.length % 2).toBe(0);
    for (const [i, event] of seen.entries()) {
      expect(event).toBe(i % 2 === 0 ? 'interrupted' : 'resumed');
    }
    seen.length = 0;
    await writer.create('/svc/x', 'v');
    await writer.set('/svc', 'w');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['created /svc/x', 'dataChanged /svc']);
    expect(proxy.connections).toBe(1);
    await watch.close();
  });

  test('one session - after a reconnect, resumed waits for the server to hold the watch again', async ({
    zk,
  }) => {
    const { proxy, client, writer, seen, watch } = await watchedThroughProxy(zk);

    // The moment the connection is back, hold everything: the server's answer to the request that
    // sets the watch again cannot reach the client.
    const hold = (now: string) => {
      if (now !== 'reconnected') return;
      client.off('state', hold);
      proxy.partition();
    };
    client.on('state', hold);
    proxy.drop();
    await waitFor(() => client.state === 'reconnected');
    // Another session's change now may come before the server holds the watch again, and the
    // server replays missed changes for one-shot watches only: `resumed` must not be out yet.
    try {
      await writer.create('/svc');
      expect(seen).toEqual(['interrupted']);
      expect(watch.active).toBe(false);
    } finally {
      proxy.heal();
    }
    await waitFor(() => seen.includes('resumed'));
    expect(watch.active).toBe(true);
    // From `resumed` on, every change is reported, whoever makes it.
    await writer.create('/svc/after');
    await waitFor(() => seen.includes('created /svc/after'));
    // `created /svc` is there when the request reached the server before the hold.
    expect(seen.filter((e) => e !== 'created /svc')).toEqual([
      'interrupted',
      'resumed',
      'created /svc/after',
    ]);
    expect(proxy.connections).toBe(1);
    await watch.close();
  });

  test('one session - a one-shot watch on the watched path leaves the recursive watch in place', async ({
    zk,
  }) => {
    const client = await zk.client({ transport: 'wire' });
    const writer = await zk.client();
    await writer.create('/p');
    const seen: string[] = [];
    await using watch = watchRecursive(client, '/p', (e) => seen.push(describeEvent(e)));
    await watch.ready();
    // The server keeps one watch mode per session and path: this read must not make the
    // recursive watch a one-shot one.
    const once = await client.getWatched('/p');
    await writer.set('/p', '1');
    expect(await once.changed).toEqual({ type: 'dataChanged', path: '/p' });
    await writer.set('/p', '2');
    await writer.create('/p/c');
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(['dataChanged /p', 'dataChanged /p', 'created /p/c']);
  });

  test('one session - closing a recursive watch keeps the one-shot watches of its path', async ({
    zk,
  }) => {
    const client = await zk.client({ transport: 'wire' });
    const writer = await zk.client();
    await writer.create('/p');
    const watch = watchRecursive(client, '/p', () => undefined);
    await watch.ready();
    const data = await client.existsWatched('/p');
    const children = await client.getChildrenWatched('/p');
    await watch.close();
    const fired: string[] = [];
    void data.changed.then(
      (e) => fired.push(`${e.type} ${e.path}`),
      () => undefined,
    );
    void children.changed.then(
      (e) => fired.push(`${e.type} ${e.path}`),
      () => undefined,
    );
    await writer.set('/p', '1');
    await writer.create('/p/c');
    await waitFor(() => fired.length === 2);
    expect(fired.sort()).toEqual(['childrenChanged /p', 'dataChanged /p']);
  });

  test('one session - 10,000 recursive watches set and closed leave none on the server', async () => {
    await using server = await ZooKeeperServer.start();
    await using client = new ZkClient(server.connectString, { transport: 'wire' });
    await client.start();
    const watches = Array.from({ length: 10_000 }, (_, i) =>
      watchRecursive(client, `/w${i}`, () => undefined),
    );
    await Promise.all(watches.map((w) => w.ready()));
    expect(await serverWatches(server.connectString)).toBe(10_000);
    await Promise.all(watches.map((w) => w.close()));
    expect(await serverWatches(server.connectString)).toBe(0);
  });
});
