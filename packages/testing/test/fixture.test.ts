import { ZkClient } from '@zkit/core';
import { describe, expect, inject } from 'vitest';
import { CHROOT_PARENT, test } from '../src/vitest.js';

// Tests in a file run in order: the second checks what the first left behind.
let previousChroot: string | undefined;

describe('vitest fixture', () => {
  test('fixture - each test gets a client on its own fresh chroot', async ({ zk }) => {
    expect(zk.serverConnectString).toBe(inject('zookeeperConnectString'));
    expect(zk.chroot.startsWith(`${CHROOT_PARENT}/`)).toBe(true);
    expect(zk.connectString).toBe(zk.serverConnectString + zk.chroot);
    const client = await zk.client();
    expect(client.state).toBe('connected');
    expect(await client.getChildren('/')).toEqual([]);
    await client.create('/a/b', 'x', { parents: 'persistent' });
    previousChroot = zk.chroot;
  });

  test('fixture - the chroot is deleted after the test and clients are closed', async ({ zk }) => {
    expect(previousChroot).toBeDefined();
    expect(zk.chroot).not.toBe(previousChroot);
    const root = new ZkClient(zk.serverConnectString);
    try {
      await root.start();
      expect(await root.exists(previousChroot ?? '/missing')).toBeNull();
      expect(await root.exists(zk.chroot)).not.toBeNull();
    } finally {
      await root.close();
    }
  });

  test('fixture - a proxy carries the chroot', async ({ zk }) => {
    const proxy = await zk.proxy();
    expect(proxy.connectString.endsWith(zk.chroot)).toBe(true);
    const direct = await zk.client();
    const proxied = await zk.client({ connectString: proxy.connectString });
    await proxied.create('/via-proxy');
    expect(await direct.exists('/via-proxy')).not.toBeNull();
  });
});
