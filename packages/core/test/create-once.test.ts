import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { ConnectionLossError, InvalidArgumentError } from '@zkit/core';

describe('create without retry', () => {
  test('create - retry: false sends a sequential create once and reports the lost reply', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
    const other = await zk.client();
    await client.create('/seq', '');
    // The create is held back, then its connection drops: the request never reaches the server.
    proxy.partition();
    const creating = client
      .create('/seq/n-', 'x', { mode: 'persistentSequential', retry: false })
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    await other.exists('/seq');
    proxy.drop();
    proxy.heal();
    expect(await creating).toBeInstanceOf(ConnectionLossError);
    await client.whenConnected();
    // Not sent again on the new connection: the node count stays at what the server saw.
    expect(await other.getChildren('/seq')).toEqual([]);
    // The default retries as before.
    proxy.partition();
    const retried = client.create('/seq/n-', 'x', { mode: 'persistentSequential' });
    await other.exists('/seq');
    proxy.drop();
    proxy.heal();
    expect(await retried).toBe('/seq/n-0000000000');
  });

  test('create - a retry option that is not a boolean is refused before any request', async ({
    zk,
  }) => {
    const client = await zk.client();
    await expect(
      client.create('/x', '', { retry: 'no' as unknown as boolean }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await client.exists('/x')).toBeNull();
  });
});
