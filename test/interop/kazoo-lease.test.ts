import { setTimeout as sleepUntil } from 'node:timers/promises';
import { MultiPeriodLease, PeriodLease } from '@zkit/lock';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { startKazooAgent } from './kazoo-agent.js';

// kazoo 2.8's NonBlockingLease / MultiNonBlockingLease and zkit's PeriodLease / MultiPeriodLease
// on the same paths, both directions. One Python process for the file, so the checks share one
// test.

test("interop - kazoo's lease and zkit's PeriodLease grant one holder per period between them", async ({
  zk,
}) => {
  const client = await zk.client();
  const kazoo = await startKazooAgent(zk.connectString);
  try {
    const lease = (cmd: string, args: Record<string, unknown>) =>
      kazoo.send(cmd, args).then((reply) => reply.obtained);

    // kazoo holds: zkit is refused, unless it asks with kazoo's identifier (a renewal).
    expect(await lease('lease', { path: '/k/one', seconds: 60, identifier: 'kazoo-host' })).toBe(
      true,
    );
    const zkitAsker = new PeriodLease(client, '/k/one', { duration: 60_000, identifier: 'zkit' });
    expect(await zkitAsker.tryAcquire()).toBeNull();
    const kazooRecord = await zkitAsker.holder();
    expect(kazooRecord?.holder).toBe('kazoo-host');
    const renewal = new PeriodLease(client, '/k/one', {
      duration: 60_000,
      identifier: 'kazoo-host',
    });
    expect((await renewal.tryAcquire())?.holder).toBe('kazoo-host');

    // zkit holds: kazoo parses zkit's record and is refused; with zkit's identifier it renews.
    const zkitHolder = new PeriodLease(client, '/k/two', { duration: 60_000, identifier: 'zkit' });
    const grant = await zkitHolder.tryAcquire();
    expect(grant?.holder).toBe('zkit');
    expect(await lease('lease', { path: '/k/two', seconds: 60, identifier: 'kazoo-host' })).toBe(
      false,
    );
    expect(await lease('lease', { path: '/k/two', seconds: 60, identifier: 'zkit' })).toBe(true);
    const written = await kazoo.send('get', { path: '/k/two/lease_holder' });
    expect(JSON.parse(written.data as string)).toMatchObject({ version: 1, holder: 'zkit' });

    // Expired grants: each side takes over the other's once its end has passed.
    const short = new PeriodLease(client, '/k/three', { duration: 1000, identifier: 'zkit' });
    const shortGrant = await short.tryAcquire();
    expect(shortGrant).not.toBeNull();
    await sleepUntil(Math.max(0, (shortGrant?.end.getTime() ?? 0) - Date.now() + 1000));
    expect(await lease('lease', { path: '/k/three', seconds: 1, identifier: 'kazoo-host' })).toBe(
      true,
    );
    const kazooShort = await short.holder();
    expect(kazooShort?.holder).toBe('kazoo-host');
    await sleepUntil(Math.max(0, (kazooShort?.end.getTime() ?? 0) - Date.now() + 1));
    expect((await short.tryAcquire())?.holder).toBe('zkit');

    // Racing askers on both sides, through kazoo's lock: exactly one grant.
    for (let round = 0; round < 3; round++) {
      const path = `/k/race-${round}`;
      const outcomes = await Promise.all([
        lease('lease', { path, seconds: 60, identifier: 'kazoo-host' }),
        ...['z1', 'z2', 'z3'].map((id) =>
          new PeriodLease(client, path, { duration: 60_000, identifier: id })
            .tryAcquire()
            .then((g) => g !== null),
        ),
      ]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    }

    // Multi: kazoo fills both slots of /k/multi; zkit is refused; a kazoo holder's identifier
    // renews its slot through zkit, and zkit's slot refuses kazoo.
    expect(
      await lease('multi', { path: '/k/multi', count: 2, seconds: 60, identifier: 'k1' }),
    ).toBe(true);
    expect(
      await lease('multi', { path: '/k/multi', count: 2, seconds: 60, identifier: 'k2' }),
    ).toBe(true);
    const multi = (id: string) =>
      new MultiPeriodLease(client, '/k/multi', 2, { duration: 60_000, identifier: id });
    expect(await multi('z').tryAcquire()).toBeNull();
    expect((await multi('k2').tryAcquire())?.path).toBe('/k/multi/1/lease_holder');
    const zkitMulti = (id: string) =>
      new MultiPeriodLease(client, '/k/zmulti', 2, { duration: 60_000, identifier: id });
    expect(await zkitMulti('z1').tryAcquire()).not.toBeNull();
    expect(await zkitMulti('z2').tryAcquire()).not.toBeNull();
    expect(
      await lease('multi', { path: '/k/zmulti', count: 2, seconds: 60, identifier: 'k3' }),
    ).toBe(false);
  } finally {
    await kazoo.close();
  }
});
