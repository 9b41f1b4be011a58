import { Mutex } from '@zkit/lock';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { afterAll, describe, expect } from 'vitest';
import { startCuratorAgent, type CuratorAgent } from './curator-agent.js';

// Curator's revocation (Revocable, Revoker) and zkit's on one lock: a request written by either
// side is heard by the other. One agent for the file, without a chroot: each test hands it its
// own chroot's paths.
let shared: Promise<CuratorAgent> | undefined;
afterAll(async () => {
  await (await shared)?.close();
});

async function curator(connectString: string): Promise<{ agent: CuratorAgent; root: string }> {
  const slash = connectString.indexOf('/');
  shared ??= startCuratorAgent(connectString.slice(0, slash));
  return { agent: await shared, root: connectString.slice(slash) };
}

describe('interop - revocation', () => {
  test('interop - Curator asks a zkit holder to give the lock up, and zkit hears it', async ({
    zk,
  }) => {
    const { agent, root } = await curator(zk.connectString);
    const client = await zk.client();
    const lease = await new Mutex(client, '/locks/revocable').acquire();
    const requested = lease.revocationRequested;
    await agent.send('revoke', `${root}${lease.path}`);
    await waitFor(() => requested.aborted);
    expect(lease.held).toBe(true);
    await lease.release();
  });

  test('interop - a zkit waiter asks a revocable Curator holder to give the lock up, and gets it', async ({
    zk,
  }) => {
    const { agent, root } = await curator(zk.connectString);
    const client = await zk.client();
    const path = `${root}/locks/revocable`;
    await agent.send('mutex.revocable', path);
    await agent.send('mutex.acquire', path, 10_000);
    const acquiring = new Mutex(client, '/locks/revocable').acquire({
      revoke: true,
      timeout: 20_000,
    });
    const heard = await agent.next('revocationRequested', { timeout: 20_000 });
    expect(heard).toMatchObject({ path });
    await agent.send('mutex.release', path);
    const lease = await acquiring;
    expect(lease.held).toBe(true);
    await lease.release();
  });
});
