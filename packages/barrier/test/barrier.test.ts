import type { ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError, SessionExpiredError } from '@zkit/core';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Barrier } from '../src/index.js';
import { rejection, settled, track } from './helpers.js';

const PATH = '/gates/deploy';

describe('Barrier', () => {
  test('barrier - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new Barrier(client, 'gates')).toThrow(InvalidPathError);
    expect(() => new Barrier(client, '/')).toThrow(InvalidPathError);
    expect(() => new Barrier(undefined as unknown as ZkClient, PATH)).toThrow(InvalidArgumentError);
    expect(() => new Barrier(client, PATH).wait({ timeout: -1 })).toThrow(InvalidArgumentError);
    expect(await client.exists('/gates')).toBeNull();
  });

  test('barrier - nobody passes before the barrier is lowered', async ({ zk }) => {
    const coordinator = await zk.client();
    const gate = new Barrier(coordinator, PATH);
    await gate.raise();
    await gate.raise(); // already up: nothing changes
    expect(await gate.isRaised()).toBe(true);

    const workers = await Promise.all([zk.client(), zk.client(), zk.client()]);
    let lowered = false;
    const passedEarly: boolean[] = [];
    const waits = workers.map((w) =>
      track(new Barrier(w, PATH).wait({ timeout: 30_000 }).then(() => passedEarly.push(!lowered))),
    );
    await waitFor(async () => (await coordinator.exists(PATH))?.numChildren === 0);
    // Wake-ups that are not the node's deletion must not let anyone through.
    for (const w of workers) {
      w.emit('state', 'reconnected', 'suspended');
      await w.sync(PATH);
    }
    for (const wait of waits) expect(await settled(wait)).toBe(false);

    lowered = true;
    await gate.lower();
    await Promise.all(waits);
    expect(passedEarly).toEqual([false, false, false]);
    await gate.lower(); // already down: nothing to do
    // Waiting on a barrier that is down resolves at once.
    await new Barrier(coordinator, PATH).wait();
  });

  test('barrier - a wait times out or aborts with the usual errors', async ({ zk }) => {
    const client = await zk.client();
    const gate = new Barrier(client, PATH);
    await gate.raise();
    const timedOut = await rejection(gate.wait({ timeout: 100 }));
    expect((timedOut as Error).name).toBe('TimeoutError');
    const controller = new AbortController();
    const aborted = gate.wait({ signal: controller.signal });
    controller.abort(new Error('stop'));
    expect(((await rejection(aborted)) as Error).message).toBe('stop');
    expect(client.watchCount).toBe(0);
  });

  test('barrier - a wait carries on through a connection drop and a session expiry', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const waiter = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const coordinator = await zk.client();
    const gate = new Barrier(coordinator, PATH);
    await gate.raise();
    let lowered = false;
    let passedEarly: boolean | undefined;
    const wait = track(
      new Barrier(waiter, PATH).wait({ timeout: 40_000 }).then(() => {
        passedEarly = !lowered;
      }),
    );
    expect(await settled(wait)).toBe(false);

    proxy.drop();
    await waitFor(() => proxy.connections === 1 && waiter.isConnected);
    await waiter.sync(PATH);
    expect(await settled(wait)).toBe(false);

    const before = waiter.sessionId;
    await expireSession(waiter);
    await waitFor(() => waiter.isConnected && waiter.sessionId !== before);
    await waiter.sync(PATH);
    expect(await settled(wait)).toBe(false);

    lowered = true;
    await gate.lower();
    await wait;
    expect(passedEarly).toBe(false);
    proxy.heal();
  });

  test('barrier - failOnSessionLoss rejects a wait when the session is lost', async ({ zk }) => {
    const waiter = await zk.client({ sessionTimeout: 4000 });
    const coordinator = await zk.client();
    await new Barrier(coordinator, PATH).raise();
    const wait = track(
      new Barrier(waiter, PATH).wait({ failOnSessionLoss: true, timeout: 30_000 }),
    );
    await waitFor(() => waiter.watchCount === 1);
    await expireSession(waiter);
    expect(await rejection(wait)).toBeInstanceOf(SessionExpiredError);
    expect(await coordinator.exists(PATH)).not.toBeNull();
  });
});
