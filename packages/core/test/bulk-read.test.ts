import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import {
  NoAuthError,
  NoNodeError,
  Perms,
  WatchConnection,
  getChildrenData,
  type ZkClient,
} from '@zkit/core';

/** Creates `n` children of `path` with data `v<i>`, pipelined. */
async function fill(client: ZkClient, path: string, n: number): Promise<string[]> {
  await client.create(path, '');
  const names = Array.from({ length: n }, (_, i) => `n-${String(i).padStart(4, '0')}`);
  await Promise.all(names.map((name, i) => client.create(`${path}/${name}`, `v${i}`)));
  return names;
}

describe('bulk reads', () => {
  test('bulk reads - getMany reads hundreds of nodes in multi-read batches with the stats the client sees', async ({
    zk,
  }) => {
    const client = await zk.client();
    const names = await fill(client, '/many', 300);
    await using conn = new WatchConnection(zk.connectString);
    const paths = names.map((n) => `/many/${n}`);
    paths.splice(150, 0, '/many/missing');

    const results = await conn.getMany(paths);
    expect(results).toHaveLength(301);
    expect(results[150]?.error).toBeInstanceOf(NoNodeError);
    const read = results.filter((r) => r.error === undefined);
    expect(read.map((r) => ('data' in r ? r.data.toString() : ''))).toEqual(
      names.map((_, i) => `v${i}`),
    );
    // The stat decoded from the wire equals the native client's, field by field.
    const first = results[0];
    expect(first && 'stat' in first ? first.stat : undefined).toEqual(
      (await client.get('/many/n-0000')).stat,
    );
    expect((await conn.getChildren('/many')).sort()).toEqual(names);
    await expect(conn.getChildren('/none')).rejects.toBeInstanceOf(NoNodeError);
  });

  test('bulk reads - an ephemeral owner and the chroot come out as the client reports them', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/eph', '');
    await client.create('/eph/mine', 'x', { mode: 'ephemeral' });
    // zk.connectString carries the test's chroot: paths go out with it and come back without.
    await using conn = new WatchConnection(zk.connectString);
    await conn.sync('/eph');
    const [result] = await conn.getMany(['/eph/mine']);
    expect(result && 'stat' in result ? result.stat.ephemeralOwner : undefined).toBe(
      client.sessionId,
    );
    expect(await conn.getChildren('/eph')).toEqual(['mine']);
  });

  test('bulk reads - getChildrenData lists with data, sorted, and reads what the extra connection may not through the client', async ({
    zk,
  }) => {
    const auth = [{ scheme: 'digest', credentials: 'alice:secret' }];
    const client = await zk.client({ auth });
    const names = await fill(client, '/svc', 40);
    // Two children only alice may read: the extra connection carries no credentials here.
    const owner = [{ perms: Perms.all, scheme: 'auth', id: '' }];
    await client.create('/svc/p-private', 'secret', { acl: owner });
    await client.create('/svc/q-private', 'hidden', { acl: owner });
    await using stranger = new WatchConnection(zk.connectString);
    const [denied] = await stranger.getMany(['/svc/p-private']);
    expect(denied?.error).toBeInstanceOf(NoAuthError);

    const children = await getChildrenData(client, '/svc');
    expect(children.map((c) => c.name)).toEqual([...names, 'p-private', 'q-private']);
    expect(children.map((c) => c.data.toString())).toEqual([
      ...names.map((_, i) => `v${i}`),
      'secret',
      'hidden',
    ]);
    for (const c of children) expect(c.stat.dataLength).toBe(c.data.length);
    await expect(getChildrenData(client, '/absent')).rejects.toBeInstanceOf(NoNodeError);
    expect(await getChildrenData(client, '/svc/n-0000')).toEqual([]);
    // The fixture's cleanup may not read them.
    await client.delete('/svc/p-private');
    await client.delete('/svc/q-private');
  });

  test("bulk reads - getChildrenData sees the client's own write made just before", async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/fresh', '');
    for (let i = 0; i < 20; i++) {
      await client.create(`/fresh/c${i}`, `${i}`);
      const children = await getChildrenData(client, '/fresh');
      expect(children).toHaveLength(i + 1);
    }
  });
});

describe('acl reads', () => {
  test('acl reads - getAcl of a missing or unreadable node rejects with its typed error (the process survives), and reads with the credentials added later', async ({
    zk,
  }) => {
    const owner = await zk.client({ auth: [{ scheme: 'digest', credentials: 'bob:pw' }] });
    await expect(owner.getAcl('/missing')).rejects.toBeInstanceOf(NoNodeError);
    await owner.create('/locked', 'x', { acl: [{ perms: Perms.all, scheme: 'auth', id: '' }] });
    const { acl, stat } = await owner.getAcl('/locked');
    expect(acl).toEqual([
      { perms: Perms.all, scheme: 'digest', id: expect.stringMatching(/^bob:/) },
    ]);
    expect(stat).toEqual((await owner.get('/locked')).stat);

    const other = await zk.client();
    const denied = await other.getAcl('/locked').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(NoAuthError);
    expect((denied as NoAuthError).path).toBe('/locked');
    await other.addAuth('digest', 'bob:pw');
    expect((await other.getAcl('/locked')).acl).toEqual(acl);

    // A change made just before is seen (and lets the fixture clean up).
    await owner.setAcl('/locked', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
    expect((await other.getAcl('/locked')).acl).toEqual([
      { perms: Perms.all, scheme: 'world', id: 'anyone' },
    ]);
  });
});
