import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import {
  InvalidArgumentError,
  InvalidPathError,
  NoNodeError,
  UnimplementedError,
  ZkClient,
} from '@zkit/core';

/** Whether the client runs on the native transport (where these requests do not exist). */
function native(client: ZkClient): boolean {
  return client.server === undefined;
}

describe('protocol requests on the client', () => {
  test("protocol requests - getEphemerals lists this session's ephemeral nodes under a prefix, within the namespace", async ({
    zk,
  }) => {
    const client = await zk.client({ namespace: '/app' });
    const other = await zk.client({ namespace: '/app' });
    await client.create('/workers/w-1', '', { mode: 'ephemeral', parents: 'persistent' });
    await client.create('/workers/w-2', '', { mode: 'ephemeral' });
    await client.create('/jobs/j-1', '', { mode: 'ephemeral', parents: 'persistent' });
    await other.create('/workers/o-1', '', { mode: 'ephemeral' });
    // A sibling of the namespace, of the same session, is not within it.
    const outside = await zk.client({ namespace: '/app2' });
    await outside.create('/x', '', { mode: 'ephemeral' });
    if (native(client)) {
      await expect(client.getEphemerals('/workers/')).rejects.toThrow(UnimplementedError);
      await expect(client.getEphemerals('/workers/')).rejects.toThrow(/wire transport/);
      return;
    }
    expect((await client.getEphemerals('/workers/')).sort()).toEqual([
      '/workers/w-1',
      '/workers/w-2',
    ]);
    expect((await client.getEphemerals()).sort()).toEqual([
      '/jobs/j-1',
      '/workers/w-1',
      '/workers/w-2',
    ]);
    expect(await client.getEphemerals('/workers/w-2')).toEqual(['/workers/w-2']);
    expect(await other.getEphemerals('/')).toEqual(['/workers/o-1']);
    expect(await outside.getEphemerals()).toEqual(['/x']);
    await expect(client.getEphemerals('workers')).rejects.toThrow(InvalidPathError);
  });

  test('protocol requests - getAllChildrenNumber counts the nodes below a path at any depth', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/tree/a/b/c', '', { parents: 'persistent' });
    await client.create('/tree/a/d', '');
    await client.create('/tree/e', '');
    if (native(client)) {
      await expect(client.getAllChildrenNumber('/tree')).rejects.toThrow(UnimplementedError);
      return;
    }
    expect(await client.getAllChildrenNumber('/tree')).toBe(5);
    expect(await client.getAllChildrenNumber('/tree/a/b/c')).toBe(0);
    await expect(client.getAllChildrenNumber('/missing')).rejects.toThrow(NoNodeError);
    await expect(client.getAllChildrenNumber('/tree/')).rejects.toThrow(InvalidPathError);
  });

  test('protocol requests - whoAmI names the identities the server gave the session', async ({
    zk,
  }) => {
    const client = await zk.client({ auth: [{ scheme: 'digest', credentials: 'ann:secret' }] });
    if (native(client)) {
      await expect(client.whoAmI()).rejects.toThrow(UnimplementedError);
      return;
    }
    const ids = await client.whoAmI();
    expect(ids).toContainEqual({ scheme: 'digest', user: 'ann' });
    expect(ids).toContainEqual({ scheme: 'ip', user: '127.0.0.1' });
    await client.addAuth('digest', 'bob:other');
    expect(await client.whoAmI()).toContainEqual({ scheme: 'digest', user: 'bob' });
  });

  test('protocol requests - canBeReadOnly is checked at construction, and refused on the native transport', ({
    zk,
  }) => {
    const options = { canBeReadOnly: true, transport: 'native' } as const;
    expect(() => new ZkClient(zk.connectString, options)).toThrow(UnimplementedError);
    expect(() => new ZkClient(zk.connectString, options)).toThrow(/wire transport/);
    const bad = { canBeReadOnly: 'yes' } as unknown as { canBeReadOnly: boolean };
    expect(() => new ZkClient(zk.connectString, bad)).toThrow(InvalidArgumentError);
  });
});
