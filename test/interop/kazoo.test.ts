import { Party, SetPartitioner } from '@zkit/group';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { afterAll, expect } from 'vitest';
import { startKazooAgent, type KazooAgent, type KazooEvent } from './kazoo-agent.js';

// kazoo 2.8 (Debian's python3-kazoo) and zkit in one party and one set partitioner: each sees
// the other's members, and together they divide the set into a true partition. One Python
// process serves every test of this file, on the server without a chroot: tests name their
// absolute paths under the fixture's chroot.

let agent: KazooAgent | undefined;
async function kazoo(serverConnectString: string): Promise<KazooAgent> {
  agent ??= await startKazooAgent(serverConnectString);
  return agent;
}
afterAll(async () => {
  await agent?.close();
});

/** The last state kazoo's partitioner `name` reported. */
function kazooState(k: KazooAgent, name: string): { state: string; items: string[] } | undefined {
  const last = k.events.filter((e: KazooEvent) => e['name'] === name).at(-1);
  return last && { state: last['state'] as string, items: last['items'] as string[] };
}

test('interop - kazoo and zkit members of a Party and a ShallowParty see each other', async ({
  zk,
}) => {
  const k = await kazoo(zk.serverConnectString);
  const client = await zk.client();
  for (const shallow of [false, true]) {
    const path = `/parties/${shallow ? 'shallow' : 'deep'}`;
    await k.send('party.join', zk.chroot + path, 'python-1', shallow);
    const party = new Party(client, path, 'node-1', { shallow });
    await party.join();
    expect(await party.members()).toEqual(['node-1', 'python-1']);
    expect((await k.send('party.members', zk.chroot + path, 'python-1'))['members']).toEqual([
      'node-1',
      'python-1',
    ]);
    await k.send('party.leave', zk.chroot + path, 'python-1');
    expect(await party.members()).toEqual(['node-1']);
    await party.leave();
    expect((await client.getChildren(path)).length).toBe(0);
  }
});

test('interop - a kazoo SetPartitioner and zkit partitioners divide one set into a true partition', async ({
  zk,
}) => {
  const k = await kazoo(zk.serverConnectString);
  const items = ['t0', 't1', 't2', 't3', 't4', 't5', 't6'];
  const path = '/partitions/tenants';
  let overlaps = 0;
  const zkit: SetPartitioner[] = [];
  const partitioned = (): boolean => {
    const py = kazooState(k, 'py');
    if (py?.state !== 'ACQUIRED' || !zkit.every((p) => p.state === 'acquired')) return false;
    const all = [...py.items, ...zkit.flatMap((p) => [...p.items])];
    if (new Set(all).size !== all.length) overlaps++;
    return JSON.stringify([...all].sort()) === JSON.stringify(items);
  };
  const join = async (identifier: string) => {
    const p = new SetPartitioner(await zk.client(), path, items, { identifier, timeBoundary: 200 });
    p.on('state', (now) => {
      if (now === 'release') void p.release();
    });
    p.start();
    zkit.push(p);
    return p;
  };

  await k.send('partitioner.start', 'py', zk.chroot + path, items, 'python-1', 0.2);
  const a = await join('node-a');
  const b = await join('node-b');
  await waitFor(partitioned, { timeout: 30_000, message: 'kazoo, a and b to divide the set' });
  // kazoo's division, computed the same way on both sides: members sorted, every third item.
  expect([...a.items]).toEqual(['t0', 't3', 't6']);
  expect([...b.items]).toEqual(['t1', 't4']);
  expect(kazooState(k, 'py')?.items).toEqual(['t2', 't5']);

  await b.close();
  zkit.splice(zkit.indexOf(b), 1);
  await waitFor(partitioned, { timeout: 30_000, message: 'kazoo and a to divide the set' });
  expect([...a.items]).toEqual(['t0', 't2', 't4', 't6']);

  await k.send('partitioner.finish', 'py');
  await waitFor(() => a.state === 'acquired' && a.items.length === items.length, {
    timeout: 30_000,
    message: 'a to take every item once kazoo left',
  });
  expect(overlaps).toBe(0);
  await a.close();
});
