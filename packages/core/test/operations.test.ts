import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import {
  AuthFailedError,
  BadVersionError,
  ClientClosedError,
  ClientNotStartedError,
  DataTooLargeError,
  InvalidAclError,
  InvalidArgumentError,
  InvalidPathError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  Perms,
  ZkClient,
} from '@zkit/core';

describe('operations', () => {
  test('operations - create, get, set, delete with versions and every stat field', async ({
    zk,
  }) => {
    const client = await zk.client();
    expect(await client.create('/a', 'one')).toBe('/a');
    const { data, stat } = await client.get('/a');
    expect(data.toString()).toBe('one');
    expect(typeof stat.czxid).toBe('bigint');
    expect(typeof stat.mzxid).toBe('bigint');
    expect(typeof stat.pzxid).toBe('bigint');
    expect(stat).toMatchObject({
      version: 0,
      cversion: 0,
      aversion: 0,
      dataLength: 3,
      numChildren: 0,
    });
    expect(stat.ephemeralOwner).toBe('0');
    expect(stat.ctime).toBeGreaterThan(Date.UTC(2020, 0));
    expect(stat.mtime).toBe(stat.ctime);

    const after = await client.set('/a', Buffer.from([1, 2, 3]), { version: 0 });
    expect(after.version).toBe(1);
    expect(after.mzxid).toBeGreaterThan(stat.mzxid);
    await expect(client.set('/a', 'x', { version: 0 })).rejects.toBeInstanceOf(BadVersionError);
    await expect(client.delete('/a', { version: 0 })).rejects.toBeInstanceOf(BadVersionError);
    await client.delete('/a', { version: 1 });
    expect(await client.exists('/a')).toBeNull();
  });

  test('operations - empty data is stored as zero bytes, never as the text "null"', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/empty');
    expect((await client.get('/empty')).data.length).toBe(0);
  });

  test('operations - every create mode', async ({ zk }) => {
    const client = await zk.client();
    await client.create('/m');
    const eph = await client.create('/m/eph', '', { mode: 'ephemeral' });
    expect((await client.exists(eph))?.ephemeralOwner).toBe(client.sessionId);
    const seq = await client.create('/m/seq-', '', { mode: 'persistentSequential' });
    expect(seq).toMatch(/^\/m\/seq-\d{10}$/);
    const eseq = await client.create('/m/eseq-', '', { mode: 'ephemeralSequential' });
    expect(eseq).toMatch(/^\/m\/eseq-\d{10}$/);
    expect(await client.create('/m/container', '', { mode: 'container' })).toBe('/m/container');
    const ttl = await client.create('/m/ttl', '', { mode: 'persistentWithTtl', ttl: 60_000 });
    expect(ttl).toBe('/m/ttl');
    const sttl = await client.create('/m/sttl-', '', {
      mode: 'persistentSequentialWithTtl',
      ttl: 60_000,
    });
    expect(sttl).toMatch(/^\/m\/sttl-\d{10}$/);
    const { children, stat } = await client.getChildren('/m', { withStat: true });
    expect(children.sort()).toHaveLength(6);
    expect(stat.numChildren).toBe(6);
  });

  test('operations - each server error arrives as its typed class', async ({ zk }) => {
    const client = await zk.client();
    await expect(client.get('/missing')).rejects.toBeInstanceOf(NoNodeError);
    await expect(client.create('/missing/child')).rejects.toBeInstanceOf(NoNodeError);
    await client.create('/dup');
    const exists = await client.create('/dup').catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(NodeExistsError);
    expect((exists as NodeExistsError).rc).toBe(-110);
    expect((exists as NodeExistsError).path).toBe('/dup');
    await client.create('/dup/kid');
    await expect(client.delete('/dup')).rejects.toBeInstanceOf(NotEmptyError);
    await client.create('/eph', '', { mode: 'ephemeral' });
    await expect(client.create('/eph/kid')).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
    await expect(
      client.setAcl('/dup', [{ perms: Perms.all, scheme: 'nonsense', id: 'x' }]),
    ).rejects.toBeInstanceOf(InvalidAclError);
  });

  test('operations - digest auth: an ACL denies another client with NoAuthError', async ({
    zk,
  }) => {
    const owner = await zk.client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
    await owner.create('/private', 'mine', {
      acl: [{ perms: Perms.all, scheme: 'auth', id: '' }],
    });
    expect((await owner.get('/private')).data.toString()).toBe('mine');
    const { acl } = await owner.getAcl('/private');
    expect(acl).toHaveLength(1);
    expect(acl[0]?.scheme).toBe('digest');
    expect(acl[0]?.id).toMatch(/^alice:/);

    const stranger = await zk.client();
    await expect(stranger.get('/private')).rejects.toBeInstanceOf(NoAuthError);
    await stranger.addAuth('digest', 'alice:wrong');
    await expect(stranger.get('/private')).rejects.toBeInstanceOf(NoAuthError);
    const friend = await zk.client();
    await friend.addAuth('digest', 'alice:secret');
    expect((await friend.get('/private')).data.toString()).toBe('mine');
    await owner.delete('/private'); // the fixture's cleanup is not authorised to
  });

  test('operations - an unknown auth scheme fails with AuthFailedError and the client recovers', async ({
    zk,
  }) => {
    const client = await zk.client();
    await expect(client.addAuth('bogus', 'x')).rejects.toBeInstanceOf(AuthFailedError);
    await expect(client.create('/still-works')).resolves.toBe('/still-works');
  });

  test('operations - deleteRecursive, ensurePath and sync', async ({ zk }) => {
    const client = await zk.client();
    await client.ensurePath('/deep/a/b/c');
    await client.ensurePath('/deep/a/b/c');
    await client.create('/deep/a/x', 'x');
    await client.sync('/deep');
    expect((await client.getChildren('/deep/a')).sort()).toEqual(['b', 'x']);
    await client.deleteRecursive('/deep');
    expect(await client.exists('/deep')).toBeNull();
    await client.deleteRecursive('/deep'); // missing is fine
  });

  test('operations - a chroot in the connect string isolates applications', async ({ zk }) => {
    const admin = await zk.client();
    await admin.create('/app1');
    await admin.create('/app2');
    const app1 = new ZkClient(`${zk.connectString}/app1`, { sessionTimeout: 5000 });
    const app2 = new ZkClient(`${zk.connectString}/app2`, { sessionTimeout: 5000 });
    try {
      await app1.start();
      await app2.start();
      await app1.create('/config', 'one');
      await app2.create('/config', 'two');
      expect((await app1.get('/config')).data.toString()).toBe('one');
      expect((await app2.get('/config')).data.toString()).toBe('two');
      expect((await admin.get('/app1/config')).data.toString()).toBe('one');
    } finally {
      await app1.close();
      await app2.close();
    }
  });

  test('operations - the namespace option prefixes every path and is created on start', async ({
    zk,
  }) => {
    const client = await zk.client({ namespace: '/tenant/blue' });
    expect(await client.create('/job', 'x')).toBe('/job');
    expect(await client.create('/seq-', 'x', { mode: 'persistentSequential' })).toMatch(
      /^\/seq-\d+$/,
    );
    const admin = await zk.client();
    expect(await admin.exists('/tenant/blue/job')).not.toBeNull();
    expect((await client.getChildren('/')).sort()).toHaveLength(2);
  });

  test('operations - bad input is rejected with a typed error before any request', async ({
    zk,
  }) => {
    // Never started: anything that reached the wire would fail with ClientNotStartedError.
    const idle = new ZkClient(zk.connectString);
    await expect(idle.create('no-slash')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(idle.get('/a/')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(idle.create('/a', 'x'.repeat(2 * 1024 * 1024))).rejects.toBeInstanceOf(
      DataTooLargeError,
    );
    await expect(idle.create('/a', '', { mode: 'persistent', ttl: 100 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(idle.create('/a', '', { mode: 'persistentWithTtl' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(idle.create('/zookeeper/x')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(idle.set('/a', 'x', { version: -2 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(idle.get('/a')).rejects.toBeInstanceOf(ClientNotStartedError);
    expect(() => new ZkClient('')).toThrow(InvalidArgumentError);
    expect(() => new ZkClient('h:1', { sessionTimeout: -1 })).toThrow(InvalidArgumentError);
    expect(() => new ZkClient('h:1', { namespace: 'x' })).toThrow(InvalidPathError);
    const small = await zk.client({ maxDataBytes: 10 });
    await expect(small.create('/big', '12345678901')).rejects.toBeInstanceOf(DataTooLargeError);
    expect(await small.exists('/big')).toBeNull();
  });

  test('operations - after close every call rejects with ClientClosedError', async ({ zk }) => {
    const client = await zk.client();
    await client.close();
    await client.close();
    expect(client.state).toBe('closed');
    await expect(client.get('/')).rejects.toBeInstanceOf(ClientClosedError);
    await expect(client.start()).rejects.toBeInstanceOf(ClientClosedError);
    expect(client.sessionSignal().aborted).toBe(true);
  });

  test('operations - a 1 MB node and a 20k-child listing do not close the session', async ({
    zk,
  }) => {
    const client = await zk.client();
    const session = client.sessionId;
    await client.create('/big', Buffer.alloc(1024 * 1024 - 2048, 7));
    for (let i = 0; i < 3; i++)
      expect((await client.get('/big')).data.length).toBe(1024 * 1024 - 2048);
    await client.create('/many');
    const name = 'x'.repeat(40);
    await Promise.all(Array.from({ length: 20_000 }, (_, i) => client.create(`/many/${name}${i}`)));
    for (let i = 0; i < 4; i++) expect(await client.getChildren('/many')).toHaveLength(20_000);
    expect(client.sessionId).toBe(session);
    expect(client.state).toBe('connected');
  });
});
