import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { fourLetterWord, waitFor } from '@zkit/testing';
import {
  BadVersionError,
  DataTooLargeError,
  InvalidArgumentError,
  InvalidPathError,
  NoAuthError,
  NodeExistsError,
  NoNodeError,
  NoWatcherError,
  Perms,
  RequestTooLargeError,
  TransactionError,
  UnimplementedError,
  ZkClient,
  watchRecursive,
  type Acl,
} from '@zkit/core';

const native = process.env['ZKIT_TRANSPORT'] === 'native';
/** Only the session that authenticated as alice may do anything. */
const PRIVATE: readonly Acl[] = [{ perms: Perms.all, scheme: 'auth', id: '' }];

/**
 * The paths the server holds data watches on for one session (`wchc`), below `chroot`. The
 * 4lw commands of ZooKeeper 3.8 see data watches only; child watches are probed with
 * {@link holdsChildWatch}.
 */
async function serverWatches(server: string, client: ZkClient, chroot: string): Promise<string[]> {
  const text = await fourLetterWord(server, 'wchc', { timeout: 10_000 });
  const paths: string[] = [];
  let ours = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('0x')) ours = line.trim() === `0x${client.sessionId}`;
    else if (ours && line.trim().startsWith(chroot)) paths.push(line.trim().slice(chroot.length));
  }
  return paths;
}

/** Whether the server holds a child watch of this session on `path` (removing it if so). */
async function holdsChildWatch(client: ZkClient, path: string): Promise<boolean> {
  return client.removeWatches(path, 'children').then(
    () => true,
    (error: unknown) => {
      if (error instanceof NoWatcherError) return false;
      throw error;
    },
  );
}

describe('transactions', () => {
  test('transaction - creates, sets, deletes and checks commit at once, one typed result each', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/t');
    await client.create('/t/old', 'old');
    const tx = client
      .transaction()
      .create('/t/a', 'a', { withStat: true })
      .create('/t/seq-', 'b', { mode: 'persistentSequential' })
      .check('/t', 0)
      .set('/t/old', 'new', { version: 0 })
      .delete('/t/old', { version: 1 });
    expect(tx.size).toBe(5);
    if (native) {
      const error = await tx.commit().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnimplementedError);
      expect(error).toMatchObject({ code: 'UNIMPLEMENTED' });
      expect((error as Error).message).toMatch(/^transactions need the wire transport/);
      expect(await client.exists('/t/a')).toBeNull();
      return;
    }
    const [created, sequential, checked, updated, deleted] = await tx.commit();
    expect(created.op).toBe('create');
    expect(created.path).toBe('/t/a');
    expect(created.stat).toEqual(await client.exists('/t/a'));
    expect(sequential.path).toMatch(/^\/t\/seq-\d{10}$/);
    expect(checked).toEqual({ op: 'check', path: '/t' });
    expect(updated.op).toBe('set');
    expect(updated.stat.version).toBe(1);
    expect(deleted).toEqual({ op: 'delete', path: '/t/old' });
    expect(await client.exists('/t/old')).toBeNull();
    expect((await client.getChildren('/t')).sort()).toEqual(['a', sequential.path.slice(3)]);
    // A transaction is committed once.
    expect(() => tx.check('/t', 0)).toThrow(InvalidArgumentError);
    await expect(tx.commit()).rejects.toBeInstanceOf(InvalidArgumentError);
    // An empty one sends nothing and has no results.
    expect(await client.transaction().commit()).toEqual([]);
  });

  test('transaction - a failing operation applies nothing and is named with its error', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/f', 'x');
    const commit = client.transaction().create('/f/new').set('/f', 'y').check('/f', 7).commit();
    if (native) {
      await expect(commit).rejects.toBeInstanceOf(UnimplementedError);
      return;
    }
    const error = await commit.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionError);
    expect(error).toMatchObject({ code: 'TRANSACTION_FAILED', index: 2, op: 'check', path: '/f' });
    expect((error as TransactionError).error).toBeInstanceOf(BadVersionError);
    expect((error as TransactionError).cause).toBe((error as TransactionError).error);
    expect(await client.exists('/f/new')).toBeNull();
    expect((await client.get('/f')).data.toString()).toBe('x');
    const exists = await client
      .transaction()
      .create('/f/b')
      .create('/f/b')
      .commit()
      .catch((e: unknown) => e);
    expect(exists).toMatchObject({ index: 1, op: 'create', path: '/f/b' });
    expect((exists as TransactionError).error).toBeInstanceOf(NodeExistsError);
  });

  test('transaction - bad input is refused by the builder, an oversized whole before sending', async ({
    zk,
  }) => {
    const client = await zk.client({ maxDataBytes: 1000, maxFrameBytes: 4000 });
    const tx = client.transaction();
    expect(() => tx.create('no-slash')).toThrow(InvalidPathError);
    expect(() => tx.create('/zookeeper/x')).toThrow(InvalidPathError);
    expect(() => tx.set('/zookeeper', 'x')).toThrow(InvalidPathError);
    expect(() => tx.delete('/a/')).toThrow(InvalidPathError);
    expect(() => tx.create('/a', Buffer.alloc(1001))).toThrow(DataTooLargeError);
    expect(() => tx.set('/a', Buffer.alloc(1001))).toThrow(DataTooLargeError);
    expect(() => tx.check('/a', 1.5)).toThrow(InvalidArgumentError);
    expect(() => tx.delete('/a', { version: -2 })).toThrow(InvalidArgumentError);
    // @ts-expect-error: an unknown mode
    expect(() => tx.create('/a', '', { mode: 'forever' })).toThrow(InvalidArgumentError);
    expect(() => tx.create('/a', '', { ttl: 5 })).toThrow(InvalidArgumentError);
    expect(() => tx.createProtected('/a', 'x/y')).toThrow(InvalidPathError);
    expect(tx.size).toBe(0);
    // Each create fits, the five together do not.
    for (let i = 0; i < 5; i++) tx.create(`/big-${i}`, Buffer.alloc(900));
    const error = await tx.commit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(native ? UnimplementedError : RequestTooLargeError);
    expect(await client.getChildren('/')).toEqual([]);
    if (!native) {
      const mixed = client
        .transaction()
        .createProtected('/', 'job-')
        .create('/plain-', '', { mode: 'persistentSequential' });
      await expect(mixed.commit()).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });

  test('transaction - container parents are created as outside a transaction', async ({ zk }) => {
    const client = await zk.client();
    const commit = client
      .transaction()
      .create('/c/d/node', 'x', { parents: 'container', withStat: true })
      .createProtected('/c/e', 'member-', 'y', { parents: 'container' })
      .commit();
    if (native) {
      await expect(commit).rejects.toBeInstanceOf(UnimplementedError);
      return;
    }
    const [node, member] = await commit;
    expect(node.stat.dataLength).toBe(1);
    expect(member.path).toMatch(/^\/c\/e\/_c_[0-9a-f-]{36}-member-\d{10}$/);
    expect((await client.exists(member.path))?.ephemeralOwner).toBe(client.sessionId);
    // A container: the server removes it once its last child is gone.
    await client.delete('/c/d/node');
    await waitFor(async () => (await client.exists('/c/d')) === null);
  });

  test('transaction - with a protected create, a lost reply is resolved after reconnecting, applied once', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, { sessionTimeout: 4000 });
    await client.start();
    if (native) {
      const tx = client.transaction().createProtected('/p', 'job-');
      await expect(tx.commit()).rejects.toBeInstanceOf(UnimplementedError);
      return;
    }
    await client.create('/p');
    await client.create('/counter', '0');
    // Cut the link at different moments around the request: whether or not it reached the
    // server, the transaction is applied exactly once and its results are complete.
    for (let i = 0; i < 6; i++) {
      const pending = client
        .transaction()
        .createProtected('/p', 'job-', `attempt-${i}`, { withStat: true })
        .set('/counter', String(i + 1), { version: i })
        .commit();
      setTimeout(() => proxy.drop(), i);
      const [job, counter] = await pending;
      const prefix = job.path.slice(3, 3 + 3 + 36 + 1);
      const mine = (await client.getChildren('/p')).filter((c) => c.startsWith(prefix));
      expect(mine).toHaveLength(1);
      expect(job.stat.ephemeralOwner).toBe(client.sessionId);
      expect(counter.stat.version).toBe(i + 1);
    }
    expect(await client.getChildren('/p')).toHaveLength(6);
    expect((await client.get('/counter')).data.toString()).toBe('6');
  });

  test('create - the ACL travels with the create: aversion 0, a stranger refused from the start', async ({
    zk,
  }) => {
    const owner = await zk.client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
    const stranger = await zk.client();
    // The stranger reads over and over while the node is made: its first look at the node
    // (the first answer other than "no node") must be a refusal.
    let failed = false;
    const firstLook = (async () => {
      for (;;) {
        const outcome = await stranger.get('/private').then(
          () => 'read',
          (e: unknown) => e,
        );
        // A read answered before the create says nothing yet; the first one after does.
        if (!(outcome instanceof NoNodeError) || failed) return outcome;
      }
    })();
    const { stat } = await owner
      .create('/private', 'mine', { acl: PRIVATE, withStat: true })
      .catch((error: unknown) => {
        failed = true;
        throw error;
      });
    // The native binding has no create-with-ACL: it sets the ACL right after.
    expect(stat.aversion).toBe(native ? 1 : 0);
    const seen = await firstLook;
    if (!native) expect(seen).toBeInstanceOf(NoAuthError);
    await expect(stranger.get('/private')).rejects.toBeInstanceOf(NoAuthError);
    await owner.delete('/private');

    const defaulted = await zk.client({
      auth: [{ scheme: 'digest', credentials: 'alice:secret' }],
      defaultAcl: PRIVATE,
    });
    const made = await defaulted.create('/by-default', 'x', { withStat: true });
    expect(made.stat.aversion).toBe(native ? 1 : 0);
    expect((await defaulted.getAcl('/by-default')).acl[0]?.scheme).toBe('digest');
    await expect(stranger.get('/by-default')).rejects.toBeInstanceOf(NoAuthError);
    if (!native) {
      const [inTx] = await defaulted
        .transaction()
        .create('/in-tx', 'x', { withStat: true })
        .commit();
      expect(inTx.stat.aversion).toBe(0);
      await expect(stranger.get('/in-tx')).rejects.toBeInstanceOf(NoAuthError);
      await defaulted.delete('/in-tx');
    }
    await defaulted.delete('/by-default');
  });

  test('create - withStat returns the new node and its stat', async ({ zk }) => {
    const client = await zk.client();
    const plain = await client.create('/plain', 'x');
    expect(plain).toBe('/plain');
    const made = await client.create('/s-', 'abc', { mode: 'ephemeralSequential', withStat: true });
    expect(made.path).toMatch(/^\/s-\d{10}$/);
    expect(made.stat).toEqual(await client.exists(made.path));
    expect(made.stat).toMatchObject({ dataLength: 3, version: 0 });
    expect(made.stat.ephemeralOwner).toBe(client.sessionId);
    const nested = await client.create('/x/y/z', '', { parents: 'container', withStat: true });
    expect(nested.path).toBe('/x/y/z');
    expect(nested.stat.czxid).toBeGreaterThan(made.stat.czxid);
  });

  test('removeWatches - removes data, child and persistent watches from the server', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/w', 'x');
    if (native) {
      const error = await client.removeWatches('/w', 'data').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnimplementedError);
      expect((error as Error).message).toMatch(/^removeWatches needs the wire transport/);
      return;
    }
    const server = zk.serverConnectString;
    const data = await client.getWatched('/w');
    const children = await client.getChildrenWatched('/w');
    expect(await serverWatches(server, client, zk.chroot)).toEqual(['/w']);
    await client.removeWatches('/w', 'data');
    await expect(data.changed).rejects.toMatchObject({ name: 'AbortError' });
    // The child watch is still there: a new child fires it.
    await client.create('/w/kid');
    await expect(children.changed).resolves.toMatchObject({ type: 'childrenChanged' });
    expect(await serverWatches(server, client, zk.chroot)).toEqual([]);
    await expect(client.removeWatches('/w', 'children')).rejects.toBeInstanceOf(NoWatcherError);

    const events: string[] = [];
    const recursive = watchRecursive(client, '/w', (e) => events.push(e.type));
    await recursive.ready();
    const again = await client.getChildrenWatched('/w');
    await client.removeWatches('/w', 'persistentRecursive');
    // Only the persistent watch went: the child watch still fires, the recursive one not.
    await client.set('/w/kid', 'changed');
    await client.create('/w/kid2');
    await expect(again.changed).resolves.toMatchObject({ type: 'childrenChanged' });
    expect(events).toEqual([]);
    await recursive.close();
    await expect(client.removeWatches('/w', 'any')).rejects.toBeInstanceOf(NoWatcherError);
    // @ts-expect-error: not a kind
    await expect(client.removeWatches('/w', 'all')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test('removeWatches - local removes our side while disconnected; it is not set again', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, { sessionTimeout: 8000 });
    await client.start();
    await client.create('/l', 'x');
    if (native) {
      await expect(client.removeWatches('/l', 'data', { local: true })).rejects.toBeInstanceOf(
        UnimplementedError,
      );
      return;
    }
    const watched = await client.existsWatched('/l');
    proxy.partition();
    proxy.drop();
    await waitFor(() => client.state === 'suspended');
    await client.removeWatches('/l', 'data', { local: true });
    await expect(watched.changed).rejects.toMatchObject({ name: 'AbortError' });
    proxy.heal();
    await client.whenConnected();
    await client.sync('/l');
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual([]);
  });

  test('watches - 10,000 cancelled watched reads and closed iterators leave no watch on the server', async ({
    zk,
  }) => {
    const client = await zk.client();
    for (let i = 0; i < 10; i++) await client.create(`/n${i}`, 'x');
    // The binding cannot remove a watch: on it, a cancelled read only releases our side.
    const count = native ? 300 : 10_000;
    const reads = Array.from({ length: count }, (_, i) => {
      const path = `/n${i % 10}`;
      return i % 3 === 0
        ? client.existsWatched(path)
        : i % 3 === 1
          ? client.getWatched(path)
          : client.getChildrenWatched(path);
    });
    const watched = await Promise.all(reads);
    expect((await serverWatches(zk.serverConnectString, client, zk.chroot)).length).toBe(10);
    for (const w of watched) w.cancel();
    await Promise.allSettled(watched.map((w) => w.changed));
    if (native) {
      expect(client.watchCount).toBe(0);
      return;
    }
    await client.sync('/');
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual([]);
    for (let i = 0; i < 10; i++) expect(await holdsChildWatch(client, `/n${i}`)).toBe(false);
    expect(client.watchCount).toBe(0);

    const data = client.watchData('/n0');
    const children = client.watchChildren('/n1');
    await data.next();
    await children.next();
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual(['/n0']);
    await data.return?.();
    await children.return?.();
    await client.sync('/');
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual([]);
    expect(await holdsChildWatch(client, '/n1')).toBe(false);

    // Unless asked to leave it: it fires later, and its event is ignored.
    const kept = await client.existsWatched('/n2');
    kept.cancel({ keepServerWatch: true });
    await expect(kept.changed).rejects.toMatchObject({ name: 'AbortError' });
    await client.sync('/');
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual(['/n2']);
    await client.set('/n2', 'y');
    await client.sync('/');
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual([]);
  });
  test('watches - watched reads aborted in flight leave no watch once their replies land', async ({
    zk,
  }) => {
    const client = await zk.client();
    for (let i = 0; i < 10; i++) await client.create(`/a${i}`, 'x');
    const reads = Array.from({ length: 300 }, (_, i) => {
      const path = `/a${i % 10}`;
      const controller = new AbortController();
      const read =
        i % 3 === 0
          ? client.existsWatched(path, { signal: controller.signal })
          : i % 3 === 1
            ? client.getWatched(path, { signal: controller.signal })
            : client.getChildrenWatched(path, { signal: controller.signal });
      // Sent, then given up before the reply comes back.
      queueMicrotask(() => controller.abort(new Error('gave up')));
      return read;
    });
    const settled = await Promise.allSettled(reads);
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(0);
    for (const s of settled) if (s.status === 'fulfilled') s.value.cancel();
    if (native) {
      // The binding cannot remove a watch: only our side is released.
      expect(client.watchCount).toBe(0);
      return;
    }
    // The removals go out as the reads' replies come in, before the first sync's reply; the
    // second sync is answered after them.
    await client.sync('/');
    await client.sync('/');
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual([]);
    for (let i = 0; i < 10; i++) expect(await holdsChildWatch(client, `/a${i}`)).toBe(false);
    expect(client.watchCount).toBe(0);
  });
  test('watches - keepServerWatch leaves the server watch when the read signal ends the wait', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/k', 'x');
    await client.create('/d', 'x');
    expect(() =>
      client.existsWatched('/k', { keepServerWatch: 'yes' as unknown as boolean }),
    ).toThrow(InvalidArgumentError);
    const stop = new AbortController();
    const kept = await client.existsWatched('/k', { signal: stop.signal, keepServerWatch: true });
    const dropped = await client.getWatched('/d', { signal: stop.signal });
    stop.abort(new Error('released'));
    await expect(kept.changed).rejects.toThrow('released');
    await expect(dropped.changed).rejects.toThrow('released');
    expect(client.watchCount).toBe(0);
    if (native) return; // the binding neither removes nor reports server watches
    await client.sync('/');
    // The kept one is still there; the other was removed.
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual(['/k']);
    await client.delete('/k');
    await client.sync('/');
    expect(await serverWatches(zk.serverConnectString, client, zk.chroot)).toEqual([]);
  });
});
