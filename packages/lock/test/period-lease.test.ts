import diagnostics from 'node:diagnostics_channel';
import { hostname } from 'node:os';
import { setTimeout as sleepUntil } from 'node:timers/promises';
import { InvalidArgumentError, InvalidPathError } from '@zkit/core';
import type { OpMessage, ZkClient } from '@zkit/core';
import { expireSession } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { MultiPeriodLease, PeriodLease } from '../src/index.js';
import type { PeriodGrant } from '../src/index.js';

const PATH = '/cron/hourly';

/** Resolves once this process's clock has passed `grant.end`: the condition the lease checks. */
async function pastEnd(grant: PeriodGrant): Promise<void> {
  await sleepUntil(Math.max(0, grant.end.getTime() - Date.now() + 1));
}

async function record(client: ZkClient, path: string): Promise<unknown> {
  return JSON.parse((await client.get(`${path}/lease_holder`)).data.toString());
}

describe('PeriodLease', () => {
  test('period lease - one holder per period; the holder renews; another takes over once it ends', async ({
    zk,
  }) => {
    const a = new PeriodLease(await zk.client(), PATH, { duration: 1500, identifier: 'a' });
    const b = new PeriodLease(await zk.client(), PATH, { duration: 1500, identifier: 'b' });
    const before = Date.now();
    const grant = await a.tryAcquire();
    expect(grant).not.toBeNull();
    if (grant === null) return;
    expect(grant.holder).toBe('a');
    expect(grant.path).toBe(`${PATH}/lease_holder`);
    // Whole seconds, truncated, as kazoo stores them.
    expect(grant.end.getTime() % 1000).toBe(0);
    expect(grant.end.getTime()).toBeGreaterThan(before + 1500 - 1000);
    expect(grant.end.getTime()).toBeLessThanOrEqual(Date.now() + 1500);
    // kazoo's record, kazoo's JSON layout.
    const raw = (await a.client.get(grant.path)).data.toString();
    expect(raw).toBe(
      `{"version": 1, "holder": "a", "end": "${grant.end.toISOString().slice(0, 19)}"}`,
    );
    expect(await b.tryAcquire()).toBeNull();
    expect(await b.tryAcquire()).toBeNull();
    const renewed = await a.tryAcquire();
    expect(renewed?.holder).toBe('a');
    expect(await b.holder()).toEqual(renewed);
    if (renewed === null) return;
    await pastEnd(renewed);
    const taken = await b.tryAcquire();
    expect(taken?.holder).toBe('b');
    expect(await a.tryAcquire()).toBeNull();
    // The lock nodes are gone after each attempt: only the record stays.
    expect(await a.client.getChildren(PATH)).toEqual(['lease_holder']);
  });

  test('period lease - of many askers at once exactly one is granted', async ({ zk }) => {
    const clients = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const askers = Array.from(
      { length: 9 },
      (_, i) =>
        new PeriodLease(clients[i % 3] as ZkClient, PATH, {
          duration: 60_000,
          identifier: `host-${i}`,
        }),
    );
    const grants = await Promise.all(askers.map((l) => l.tryAcquire()));
    const granted = grants.filter((g) => g !== null);
    expect(granted).toHaveLength(1);
    expect(await record(clients[0] as ZkClient, PATH)).toMatchObject({
      version: 1,
      holder: granted[0]?.holder,
    });
  });

  test('period lease - an attempt waits through a connection drop; a grant outlives its session', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
    const lease = new PeriodLease(client, PATH, { duration: 60_000, identifier: 'a' });
    proxy.partition();
    const trying = lease.tryAcquire({ timeout: 15_000 });
    proxy.drop();
    proxy.heal();
    const grant = await trying;
    expect(grant?.holder).toBe('a');
    // The record is persistent: the holder's session ending changes nothing.
    await expireSession(client);
    const other = new PeriodLease(await zk.client(), PATH, { duration: 60_000, identifier: 'b' });
    expect(await other.tryAcquire()).toBeNull();
    // And the holder, on its new session, still renews.
    expect((await lease.tryAcquire())?.holder).toBe('a');
    expect(await client.getChildren(PATH)).toEqual(['lease_holder']);
  });

  test('period lease - a record in an unknown format is left alone', async ({ zk }) => {
    const client = await zk.client();
    await client.create(PATH, '', { parents: 'persistent' });
    await client.create(`${PATH}/lease_holder`, '{"version": 2, "holder": "x", "end": "?"}');
    const lease = new PeriodLease(client, PATH, { duration: 60_000, identifier: 'a' });
    expect(await lease.tryAcquire()).toBeNull();
    expect(await lease.holder()).toBeNull();
  });

  test('multi period lease - at most count holders per period, in kazoo\u2019s <path>/<n> layout', async ({
    zk,
  }) => {
    const client = await zk.client();
    const ask = (id: string) =>
      new MultiPeriodLease(client, PATH, 2, { duration: 60_000, identifier: id }).tryAcquire();
    expect((await ask('a'))?.path).toBe(`${PATH}/0/lease_holder`);
    expect((await ask('b'))?.path).toBe(`${PATH}/1/lease_holder`);
    expect(await ask('c')).toBeNull();
    // A holder renews its own slot.
    expect((await ask('b'))?.path).toBe(`${PATH}/1/lease_holder`);
    expect((await client.getChildren(PATH)).sort()).toEqual(['0', '1']);
  });

  test('period lease - bad arguments are refused before any request', async ({ zk }) => {
    const client = await zk.client();
    const seen: string[] = [];
    const onOp = (message: unknown) => {
      const op = message as OpMessage;
      if (op.client === client) seen.push(op.op);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      for (const duration of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
        expect(() => new PeriodLease(client, PATH, { duration: duration as number })).toThrow(
          InvalidArgumentError,
        );
      }
      expect(() => new PeriodLease(client, PATH, { duration: 1000, identifier: '' })).toThrow(
        InvalidArgumentError,
      );
      expect(() => new PeriodLease(client, 'no-slash', { duration: 1000 })).toThrow(
        InvalidPathError,
      );
      expect(() => new PeriodLease(client, PATH, undefined as never)).toThrow(InvalidArgumentError);
      for (const count of [0, 1.5, -2]) {
        expect(() => new MultiPeriodLease(client, PATH, count, { duration: 1000 })).toThrow(
          InvalidArgumentError,
        );
      }
      const lease = new PeriodLease(client, PATH, { duration: 1000 });
      expect(lease.identifier).toBe(hostname());
      expect(() => lease.tryAcquire({ timeout: -1 })).toThrow(InvalidArgumentError);
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    expect(seen).toEqual([]);
  });
});
