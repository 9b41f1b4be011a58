import { AtomicLong, SharedCount } from '@zkit/counter';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { afterAll, describe, expect } from 'vitest';
import { startCuratorAgent, type CuratorAgent } from './curator-agent.js';

// zkit's counters and Curator's (SharedCount, DistributedAtomicLong) on the same nodes. One
// agent for the file, connected without a chroot: each test hands it its own chroot's paths.
let shared: Promise<CuratorAgent> | undefined;
afterAll(async () => {
  await (await shared)?.close();
});

async function curator(connectString: string): Promise<{ agent: CuratorAgent; root: string }> {
  const slash = connectString.indexOf('/');
  shared ??= startCuratorAgent(connectString.slice(0, slash));
  return { agent: await shared, root: connectString.slice(slash) };
}

describe('interop - counters', () => {
  test('interop - a SharedCount written by Curator is seen by zkit, and the other way round', async ({
    zk,
  }) => {
    const { agent, root } = await curator(zk.connectString);
    const client = await zk.client();
    await using count = new SharedCount(client, '/counts/workers', 3);
    await count.start();
    expect(await agent.send('sharedcount.get', `${root}/counts/workers`)).toMatchObject({
      value: 3,
      version: 0,
    });
    await agent.send('sharedcount.set', `${root}/counts/workers`, -12);
    await waitFor(() => count.get().value === -12);
    expect(await count.trySet(40, count.get().version)).toBe(true);
    expect(await agent.send('sharedcount.get', `${root}/counts/workers`)).toMatchObject({
      value: 40,
      version: 2,
    });
  });

  test('interop - Curator and zkit incrementing one AtomicLong together end exact', async ({
    zk,
  }) => {
    const { agent, root } = await curator(zk.connectString);
    const clients = await Promise.all([zk.client(), zk.client(), zk.client(), zk.client()]);
    const PER = 150;
    let zkitSucceeded = 0;
    const zkit = Promise.all(
      clients.map(async (client) => {
        const counter = new AtomicLong(client, '/counters/mixed', { retry: { retries: 1000 } });
        for (let i = 0; i < PER; i++) {
          if ((await counter.increment()).succeeded) zkitSucceeded++;
        }
      }),
    );
    const java = Promise.all([
      agent.send('atomic.increment', `${root}/counters/mixed`, PER),
      agent.send('atomic.increment', `${root}/counters/mixed`, PER),
    ]);
    const [, acks] = await Promise.all([zkit, java]);
    const curatorSucceeded = acks.reduce((sum, ack) => sum + (ack['succeeded'] as number), 0);
    const expected = BigInt(zkitSucceeded + curatorSucceeded);
    expect(expected).toBeGreaterThan(0n);
    expect((await new AtomicLong(clients[0]!, '/counters/mixed').get()).postValue).toBe(expected);
    expect((await agent.send('atomic.get', `${root}/counters/mixed`))['value']).toBe(
      String(expected),
    );
  });

  test('interop - promoted Curator and zkit counters share one promotion mutex and end exact', async ({
    zk,
  }) => {
    const { agent, root } = await curator(zk.connectString);
    const clients = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const PER = 60;
    const results = Promise.all(
      clients.map(async (client) => {
        const counter = new AtomicLong(client, '/counters/promoted', {
          retry: { retries: 0 },
          promoted: { lockPath: '/counters/promoted-lock', retry: { retries: 1000 } },
        });
        const out: boolean[] = [];
        for (let i = 0; i < PER; i++) out.push((await counter.increment()).succeeded);
        return out;
      }),
    );
    const java = agent.send(
      'atomic.increment',
      `${root}/counters/promoted`,
      PER,
      `${root}/counters/promoted-lock`,
    );
    const [zkit, ack] = await Promise.all([results, java]);
    expect(zkit.flat().every(Boolean)).toBe(true);
    expect(ack['succeeded']).toBe(PER);
    expect((await new AtomicLong(clients[0]!, '/counters/promoted').get()).postValue).toBe(
      BigInt(PER * 4),
    );
  });
});
