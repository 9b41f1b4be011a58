import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { DoubleBarrier } from '../src/index.js';
import { children, settled, track } from './helpers.js';

const PATH = '/batches/nightly';

describe('DoubleBarrier sessions', () => {
  test('double barrier - a member whose session expires while entering joins again, and nobody passes early', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([
      zk.client({ sessionTimeout: 4000 }),
      zk.client({ sessionTimeout: 4000 }),
      zk.client({ sessionTimeout: 4000 }),
    ]);
    const first = new DoubleBarrier(a, PATH, { members: 3 });
    const second = new DoubleBarrier(b, PATH, { members: 3 });
    let thirdIn = false;
    const early: boolean[] = [];
    const entering = [first, second].map((m) =>
      track(m.enter({ timeout: 40_000 }).then(() => early.push(!thirdIn))),
    );
    await waitFor(async () => (await children(c, PATH)).length === 2);
    const oldSession = a.sessionId;

    await expireSession(a);
    // Back under a new session with the same member node, and still waiting.
    await waitFor(
      async () =>
        a.sessionId !== oldSession &&
        (await c.exists(first.nodePath))?.ephemeralOwner === a.sessionId,
      { message: 'the member to join again under its new session' },
    );
    for (const e of entering) expect(await settled(e)).toBe(false);
    expect(await children(c, PATH)).not.toContain('ready');

    thirdIn = true;
    const third = new DoubleBarrier(c, PATH, { members: 3 });
    await third.enter({ timeout: 10_000 });
    await Promise.all(entering);
    expect(early).toEqual([false, false]);
    await Promise.all([first, second, third].map((m) => m.leave({ timeout: 10_000 })));
    expect(await children(c, PATH)).toEqual([]);
  });

  test('double barrier - a member whose session expires inside the barrier does not hold the others back', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([
      zk.client({ sessionTimeout: 4000 }),
      zk.client({ sessionTimeout: 4000 }),
      zk.client({ sessionTimeout: 4000 }),
    ]);
    const members = [a, b, c].map((cl) => new DoubleBarrier(cl, PATH, { members: 3 }));
    await Promise.all(members.map((m) => m.enter({ timeout: 10_000 })));
    const [gone, ...others] = members as [DoubleBarrier, DoubleBarrier, DoubleBarrier];

    await expireSession(a);
    await waitFor(async () => (await c.exists(gone.nodePath)) === null);
    // The others leave without it; its own leave only waits for them.
    await Promise.all(others.map((m) => m.leave({ timeout: 10_000 })));
    await gone.leave({ timeout: 10_000 });
    expect(await children(c, PATH)).toEqual([]);
    expect(members.every((m) => m.state === 'idle')).toBe(true);
  });

  test('double barrier - a connection drop during enter keeps the member in place', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const a = await zk.client({ connectString: proxy.connectString, sessionTimeout: 8000 });
    const b = await zk.client();
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    let secondIn = false;
    let passedEarly: boolean | undefined;
    const entering = track(
      first.enter({ timeout: 30_000 }).then(() => {
        passedEarly = !secondIn;
      }),
    );
    await waitFor(async () => (await children(b, PATH)).length === 1);
    const session = a.sessionId;

    proxy.drop();
    await waitFor(() => proxy.connections === 1 && a.isConnected);
    await a.sync(PATH);
    expect(a.sessionId).toBe(session);
    expect(await settled(entering)).toBe(false);
    expect(await children(b, PATH)).toEqual([first.nodePath.split('/').pop()]);

    secondIn = true;
    const second = new DoubleBarrier(b, PATH, { members: 2 });
    await second.enter({ timeout: 10_000 });
    await entering;
    expect(passedEarly).toBe(false);
    await Promise.all([first.leave({ timeout: 10_000 }), second.leave({ timeout: 10_000 })]);
    expect(await children(b, PATH)).toEqual([]);
    proxy.heal();
  });

  test('double barrier - a connection drop during leave still lets everybody out', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const a = await zk.client({ connectString: proxy.connectString, sessionTimeout: 8000 });
    const b = await zk.client();
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    const second = new DoubleBarrier(b, PATH, { members: 2 });
    await Promise.all([first.enter({ timeout: 10_000 }), second.enter({ timeout: 10_000 })]);

    const leaving = track(first.leave({ timeout: 30_000 }));
    proxy.drop();
    let firstOut = false;
    void leaving.then(() => (firstOut = true));
    await second.leave({ timeout: 30_000 });
    await leaving;
    expect(firstOut).toBe(true);
    expect(await children(b, PATH)).toEqual([]);
    proxy.heal();
  });
});
