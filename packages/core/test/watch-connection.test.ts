import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { waitFor } from '@zkit/testing';
import {
  AuthFailedError,
  ClientClosedError,
  Perms,
  SessionExpiredError,
  WatchConnection,
  ZkClient,
  type WatchEvent,
} from '@zkit/core';

/** Records a connection's events as `type path` strings. */
function record(conn: WatchConnection): string[] {
  const seen: string[] = [];
  conn.on('event', (e: WatchEvent) => seen.push(`${e.type} ${e.path}`));
  conn.on('interrupted', () => seen.push('interrupted'));
  conn.on('resumed', (fresh) => seen.push(`resumed ${fresh ? 'new' : 'same'}`));
  return seen;
}

describe('watch connection', () => {
  test('watch connection - a recursive watch reports creations, changes and deletions below its path, chroot stripped', async ({
    zk,
  }) => {
    const writer = await zk.client();
    await using conn = new WatchConnection(zk.connectString, { sessionTimeout: 10_000 });
    const seen = record(conn);
    const events: WatchEvent[] = [];
    conn.on('event', (e) => events.push(e));
    await conn.addWatch('/svc');
    expect(conn.state).toBe('connected');
    expect(conn.sessionId).toMatch(/^[0-9a-f]+$/);

    await writer.create('/svc', 'a');
    await writer.create('/svc/one', 'x');
    await writer.set('/svc/one', 'y');
    await writer.create('/svc/one/deep');
    await writer.create('/elsewhere'); // outside the watch: no event
    await writer.delete('/svc/one/deep');
    await writer.delete('/svc/one');
    await writer.create('/svc/end');
    await waitFor(() => seen.includes('created /svc/end'));
    expect(seen).toEqual([
      'created /svc',
      'created /svc/one',
      'dataChanged /svc/one',
      'created /svc/one/deep',
      'deleted /svc/one/deep',
      'deleted /svc/one',
      'created /svc/end',
    ]);
    for (const e of events) expect(typeof e.zxid).toBe('bigint');
  });

  test('watch connection - a namespace is added to requests and stripped from events', async ({
    zk,
  }) => {
    const writer = await zk.client();
    await writer.create('/ns', '');
    await using conn = new WatchConnection(zk.connectString, { namespace: '/ns' });
    const seen = record(conn);
    await conn.addWatch('/');
    await writer.create('/ns/a');
    await writer.set('/ns', 'x');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['created /a', 'dataChanged /']);
  });

  test('watch connection - digest credentials are sent before the watch, and an unknown scheme fails with AuthFailedError', async ({
    zk,
  }) => {
    const auth = [{ scheme: 'digest', credentials: 'alice:secret' }];
    const owner = await zk.client({ auth });
    await owner.create('/private', '', { acl: [{ perms: Perms.all, scheme: 'auth', id: '' }] });

    await using conn = new WatchConnection(zk.connectString, { auth });
    await using anonymous = new WatchConnection(zk.connectString);
    const seen = record(conn);
    const seenAnonymously = record(anonymous);
    await conn.addWatch('/private');
    await anonymous.addWatch('/private');
    await owner.set('/private', 'y');
    await owner.create('/private/open', 'x'); // world-readable
    await waitFor(() => seen.length === 2 && seenAnonymously.length === 1);
    expect(seen).toEqual(['dataChanged /private', 'created /private/open']);
    // The server reports a change only to those allowed to read the node.
    expect(seenAnonymously).toEqual(['created /private/open']);
    await owner.delete('/private/open');
    await owner.delete('/private'); // the fixture's cleanup is not authorised to

    const refused = new WatchConnection(zk.connectString, {
      auth: [{ scheme: 'nonsense', credentials: 'x' }],
    });
    await expect(refused.addWatch('/anything')).rejects.toBeInstanceOf(AuthFailedError);
    await waitFor(() => refused.state === 'closed');
  });

  test('watch connection - after a dropped connection it says so, sets the watch again and reports resumed', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const writer = await zk.client();
    await using conn = new WatchConnection(proxy.connectString, { sessionTimeout: 10_000 });
    const seen = record(conn);
    const liveAt: boolean[] = [];
    conn.on('interrupted', () => liveAt.push(conn.live));
    conn.on('resumed', () => liveAt.push(conn.live));
    await conn.addWatch('/svc');
    expect(conn.live).toBe(true);
    const session = conn.sessionId;
    await writer.create('/svc');
    await waitFor(() => seen.includes('created /svc'));

    proxy.drop();
    await waitFor(() => seen.includes('resumed same'));
    expect(seen).toEqual(['created /svc', 'interrupted', 'resumed same']);
    expect(conn.sessionId).toBe(session);
    expect(liveAt).toEqual([false, true]);
    await writer.create('/svc/after');
    await waitFor(() => seen.includes('created /svc/after'));
  });

  test('watch connection - a black-holed connection is detected by its silence and replaced', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const writer = await zk.client();
    await using conn = new WatchConnection(proxy.connectString, { sessionTimeout: 4000 });
    const seen = record(conn);
    await conn.addWatch('/svc');
    proxy.partition();
    await waitFor(() => seen.includes('interrupted'), { timeout: 10_000 });
    proxy.heal();
    await waitFor(() => seen.some((s) => s.startsWith('resumed')), { timeout: 15_000 });
    await writer.create('/svc');
    await waitFor(() => seen.includes('created /svc'));
  });

  test('watch connection - close ends the session on the server and rejects later watches', async ({
    zk,
  }) => {
    const conn = new WatchConnection(zk.connectString, { sessionTimeout: 10_000 });
    await conn.addWatch('/svc');
    const credentials = conn.sessionCredentials();
    expect(credentials).toBeDefined();
    await conn.close();
    expect(conn.state).toBe('closed');
    await expect(conn.addWatch('/svc')).rejects.toBeInstanceOf(ClientClosedError);
    // Attaching to a session that was closed fails as expired; a live one would be resumed.
    const twin = new ZkClient(zk.serverConnectString, {
      sessionTimeout: 10_000,
      session: credentials as { id: string; password: string },
      retry: { retries: 0 },
    });
    await expect(twin.start({ timeout: 10_000 })).rejects.toBeInstanceOf(SessionExpiredError);
    await twin.close();

    // The same check on a connection still open finds its session alive.
    const open = new WatchConnection(zk.connectString, { sessionTimeout: 10_000 });
    await open.addWatch('/svc');
    const alive = new ZkClient(zk.serverConnectString, {
      sessionTimeout: 10_000,
      session: open.sessionCredentials() as { id: string; password: string },
      retry: { retries: 0 },
    });
    await alive.start({ timeout: 10_000 });
    expect(alive.sessionId).toBe(open.sessionId);
    await alive.close();
    await open.close();
  });

  test('watch connection - a removed watch reports nothing more', async ({ zk }) => {
    const writer = await zk.client();
    await using conn = new WatchConnection(zk.connectString);
    const seen = record(conn);
    await conn.addWatch('/a');
    await conn.addWatch('/b');
    await conn.removeWatch('/a');
    expect(conn.watches).toEqual(['/b']);
    await writer.create('/a');
    await writer.create('/b');
    await waitFor(() => seen.includes('created /b'));
    expect(seen).toEqual(['created /b']);
  });
});
