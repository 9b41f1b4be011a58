import diagnostics from 'node:diagnostics_channel';
import { describe, expect } from 'vitest';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import {
  ConnectionLossError,
  NoAuthError,
  Perms,
  isRetryable,
  openExtraConnection,
  type OpMessage,
  type ZkClient,
} from '@zkit/core';

/** Failed requests of `op` that `client` makes from now on, as they complete. */
function recordOps(client: ZkClient, op: string) {
  const seen: OpMessage[] = [];
  const onOp = (message: unknown) => {
    const m = message as OpMessage;
    if (m.client === client && m.op === op) seen.push(m);
  };
  diagnostics.subscribe('zkit:op', onOp);
  return { seen, stop: () => diagnostics.unsubscribe('zkit:op', onOp) };
}

describe('background work', () => {
  test('background work - the sweep after a failed protected create stops at a failure that is not a connection problem', async ({
    zk,
  }) => {
    const owner = await zk.client();
    // Anyone may create and delete children here, nobody may list them: the sweep's listing is
    // refused with NoAuthError every time it is tried.
    await owner.create('/unlistable', '', {
      acl: [{ perms: Perms.create | Perms.delete | Perms.admin, scheme: 'world', id: 'anyone' }],
    });
    const proxy = await zk.proxy();
    const client = await zk.client({
      connectString: proxy.connectString,
      sessionTimeout: 6000,
      retry: { retries: 0 },
    });
    const listings = recordOps(client, 'getChildren');
    try {
      // The create is held back until the client gives up on the connection: the protected
      // create fails with connection loss (or its timeout) and leaves the sweep to clean up.
      proxy.partition();
      const failure = await client.createProtected('/unlistable', 'job', 'x').catch((e) => e);
      expect(isRetryable(failure)).toBe(true);
      proxy.heal();
      await client.whenConnected({ timeout: 10_000 });
      await waitFor(() => listings.seen.length >= 1, { timeout: 10_000 });
      expect(listings.seen[0]?.error).toBeInstanceOf(NoAuthError);
      // A sweep that went on trying would send its next listing at once; give it fifty round
      // trips' worth of time to show itself.
      for (let i = 0; i < 50; i++) await client.exists('/unlistable');
      expect(listings.seen).toHaveLength(1);
    } finally {
      listings.stop();
      // Readable again, so that the test's chroot can be removed.
      await owner.setAcl('/unlistable', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
    }
  });

  test('background work - getAcl waits for the extra connection at most connectTimeout, and its failure does not suspend the client (native)', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    // A long session: the client itself would notice the partition only after 20 s. The native
    // transport: on the wire one getAcl is a request of the client's own session.
    const client = await zk.client({
      connectString: proxy.connectString,
      sessionTimeout: 30_000,
      connectTimeout: 1500,
      transport: 'native',
    });
    await client.create('/acl', 'x');
    const states: string[] = [];
    client.on('state', (now) => states.push(now));
    proxy.partition();
    const started = performance.now();
    // The first getAcl opens the extra connection, through the partitioned proxy.
    const error = await client.getAcl('/acl').catch((e: unknown) => e);
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(ConnectionLossError);
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(10_000);
    expect(states).toEqual([]);
    expect(client.state).toBe('connected');
    proxy.heal();
    const { acl } = await client.getAcl('/acl');
    expect(acl).toEqual([{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
  });

  test('background work - updateServers also moves the extra connection (native)', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    // Only the native transport has an extra connection.
    const client = await zk.client({
      connectString: proxy.connectString,
      sessionTimeout: 10_000,
      transport: 'native',
    });
    await openExtraConnection(client, { timeout: 10_000 });
    expect(proxy.connections).toBe(2);
    client.updateServers(zk.serverConnectString);
    // Both connections are reset: the client's own handle comes back through the list it was
    // opened with, the extra connection through the new one.
    proxy.drop();
    await client.whenConnected({ timeout: 10_000 });
    await client.create('/here', 'x');
    const { stat } = await client.getAcl('/here');
    expect(stat.dataLength).toBe(1);
    await waitFor(() => proxy.connections === 1, { timeout: 10_000 });
    // The proxy now carries only the client's own connection: cutting it off leaves the extra
    // connection serving.
    proxy.partition();
    await expect(client.getAcl('/here')).resolves.toMatchObject({ stat: { dataLength: 1 } });
  });
});
