import { ZkClient } from '@zkit/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expireSession, waitFor, ZooKeeperEnsemble } from '../src/index.js';

// One ensemble for the whole file: three JVMs are the most expensive thing these tests start.
let ensemble: ZooKeeperEnsemble;

beforeAll(async () => {
  ensemble = await ZooKeeperEnsemble.start({ size: 3 });
});

afterAll(async () => {
  await ensemble?.stop();
});

/** Runs `body` with a started client, and closes the client afterwards. */
async function withClient<T>(
  connectString: string,
  body: (client: ZkClient) => Promise<T>,
): Promise<T> {
  const client = new ZkClient(connectString, { sessionTimeout: 4000 });
  try {
    await client.start();
    return await body(client);
  } finally {
    await client.close();
  }
}

describe('ZooKeeperEnsemble', () => {
  test('ensemble - starts a quorum with one leader and serves on every member', async () => {
    expect(ensemble.servers).toHaveLength(3);
    expect(ensemble.connectString.split(',')).toEqual(
      ensemble.servers.map((server) => server.connectString),
    );
    const modes = await Promise.all(ensemble.servers.map((server) => server.mode()));
    expect(modes.filter((mode) => mode === 'leader')).toHaveLength(1);
    expect(modes.filter((mode) => mode === 'follower')).toHaveLength(2);
    expect(modes.indexOf('leader')).toBe(await ensemble.leaderIndex());
    await withClient(ensemble.connectString, (client) => client.create('/written', 'before'));
    // A write through one member is visible on every member.
    for (const server of ensemble.servers) {
      await withClient(server.connectString, async (client) => {
        await client.sync('/written');
        expect((await client.get('/written')).data.toString()).toBe('before');
      });
    }
  });

  test('ensemble - mntr() of the leader counts its synced followers', async () => {
    const leader = ensemble.servers[await ensemble.leaderIndex()];
    const mntr = await waitFor(
      async () => {
        const m = await leader?.mntr();
        return m?.['zk_synced_followers'] === 2 ? m : undefined;
      },
      { timeout: 10_000 },
    );
    expect(mntr['zk_server_state']).toBe('leader');
  });

  test('ensemble - stops serving without a quorum and serves again once it is back', async () => {
    const [first, second, survivor] = [0, 1, 2];
    await Promise.all([ensemble.kill(first), ensemble.kill(second)]);
    await waitFor(async () => (await ensemble.servers[survivor]?.mode()) === undefined, {
      timeout: 10_000,
      message: 'the lone member to stop serving',
    });

    await Promise.all([ensemble.restart(first), ensemble.restart(second)]);

    expect(await ensemble.leaderIndex()).toBeGreaterThanOrEqual(0);
    await withClient(ensemble.connectString, (client) => client.create('/quorum-back', 'ok'));
  });

  test('ensemble - keeps serving after its leader is killed', async () => {
    const leader = await ensemble.leaderIndex();
    await withClient(ensemble.connectString, async (client) => {
      const session = client.sessionId;
      await ensemble.kill(leader);
      expect(ensemble.servers[leader]?.state).toBe('down');

      // The write waits out the election and the client's move to another member.
      await client.create('/after-leader-crash', 'ok');

      expect(client.sessionId).toBe(session);
      const next = await ensemble.leaderIndex();
      expect(next).not.toBe(leader);
      expect((await client.get('/after-leader-crash')).data.toString()).toBe('ok');
    });

    // The crashed member comes back as a follower with the write it missed.
    await ensemble.restart(leader);
    const member = ensemble.servers[leader];
    expect(await member?.mode()).toBe('follower');
    await withClient(member?.connectString ?? '', async (client) => {
      await client.sync('/after-leader-crash');
      expect(await client.exists('/after-leader-crash')).not.toBeNull();
    });
  });
  test('ensemble - expireSession ends a session held on any member, every time', async () => {
    // The client lives on one member; the twin attaches on whichever member comes next. A twin
    // that only attached could lose the session back to the client, which reconnects at once.
    const observer = new ZkClient(ensemble.connectString);
    await observer.start();
    try {
      for (const server of ensemble.servers) {
        await withClient(server.connectString, async (client) => {
          for (let round = 0; round < 3; round += 1) {
            const before = client.sessionId;
            const mine = await client.create(`/expire-${before}`, '', { mode: 'ephemeral' });
            await expireSession(client, { connectString: ensemble.connectString });
            await observer.sync(mine);
            expect(await observer.exists(mine)).toBeNull();
            await client.whenConnected({ timeout: 10_000 });
            expect(client.sessionId).not.toBe(before);
          }
        });
      }
    } finally {
      await observer.close();
    }
  });
});
