import { ConnectionLossError, InvalidArgumentError, defaultNodeData } from '@zkit/core';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import type { LeadershipLostError } from '../src/index.js';
import {
  ElectionClosedError,
  ElectionStateError,
  LeaderSelector,
  type LeadershipTerm,
} from '../src/index.js';
import { children, settled, TermLog } from './helpers.js';

const PATH = '/election/jobs';

/** A promise plus its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

test('selector - leads while the function runs, then hands over when it returns', async ({
  zk,
}) => {
  const [a, b] = await Promise.all([zk.client(), zk.client()]);
  const log = new TermLog();
  const first = log.selector('a', new LeaderSelector(a, PATH, { id: 'a' }));
  const second = log.selector('b', new LeaderSelector(b, PATH, { id: 'b' }));
  const release = gate();
  let inside: LeadershipTerm | undefined;
  const runA = first.run(async (term) => {
    log.granted('a', term);
    inside = term;
    await release.promise;
  });
  await waitFor(() => inside);
  expect(first.hasLeadership).toBe(true);
  const names = await children(a, PATH);
  expect(names).toHaveLength(1);
  expect(names[0]).toMatch(/^_c_[0-9a-f-]{36}-lock-\d{10}$/);
  expect((await a.get(`${PATH}/${names[0]}`)).data.toString()).toBe('a');

  const runB = second.run((term) => log.granted('b', term));
  await waitFor(async () => (await children(a, PATH)).length === 2);
  expect(await second.leader()).toBe('a');
  expect((await second.participants()).map((p) => [p.id, p.isLeader])).toEqual([
    ['a', true],
    ['b', false],
  ]);
  expect(await settled(runB)).toBe(false);

  release.open();
  await runA;
  expect(inside?.signal.aborted).toBe(true);
  expect((inside?.signal.reason as LeadershipLostError).reason).toBe('ended');
  expect(first.hasLeadership).toBe(false);
  await runB;
  expect(log.terms.map((t) => t.who)).toEqual(['a', 'b']);
  expect(log.violations).toEqual([]);
  expect(await children(a, PATH)).toEqual([]);
  // Without autoRequeue a selector leads once per run, and can run again.
  await first.run((term) => log.granted('a', term));
  expect(log.terms.map((t) => t.who)).toEqual(['a', 'b', 'a']);
  await first.close();
  await second.close();
});

test('selector - autoRequeue rotates leadership between participants', async ({ zk }) => {
  const clients = await Promise.all([zk.client(), zk.client(), zk.client()]);
  const log = new TermLog();
  const selectors = clients.map((c, i) =>
    log.selector(`p${i}`, new LeaderSelector(c, PATH, { id: `p${i}`, autoRequeue: true })),
  );
  const runs: Promise<void>[] = [];
  // Join one after another, with the first term lasting until everyone stands in line, so that
  // the order of the line is known.
  const allJoined = gate();
  for (const [i, selector] of selectors.entries()) {
    runs.push(
      selector.run(async (term) => {
        log.granted(`p${i}`, term);
        await allJoined.promise;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }),
    );
    await waitFor(() => selector.nodePath);
  }
  allJoined.open();
  await log.nth(9);
  await Promise.all(selectors.map((s) => s.close()));
  await Promise.all(runs);
  expect(log.terms.slice(0, 9).map((t) => t.who)).toEqual([
    'p0',
    'p1',
    'p2',
    'p0',
    'p1',
    'p2',
    'p0',
    'p1',
    'p2',
  ]);
  expect(log.violations).toEqual([]);
  expect(await children(clients[0] as never, PATH)).toEqual([]);
});

test('selector - an error thrown while leading rejects the run, or requeues with autoRequeue', async ({
  zk,
}) => {
  const client = await zk.client();
  const once = new LeaderSelector(client, PATH, { id: 'once' });
  await expect(
    once.run(() => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(await children(client, PATH)).toEqual([]);

  const again = new LeaderSelector(client, PATH, { id: 'again', autoRequeue: true });
  const errors: unknown[] = [];
  again.on('error', (error) => errors.push(error));
  let calls = 0;
  const running = again.run(async (term) => {
    calls++;
    if (calls < 3) throw new Error(`failure ${calls}`);
    // Stopping because the term ended is not a failure.
    await aborted(term.signal);
    throw term.signal.reason;
  });
  await waitFor(() => calls === 3);
  expect(again.hasLeadership).toBe(true);
  await again.close();
  await running;
  expect(errors.map((e) => (e as Error).message)).toEqual(['failure 1', 'failure 2']);
  expect(await children(client, PATH)).toEqual([]);
});

test('selector - close revokes the term, waits for the function, and resolves the run', async ({
  zk,
}) => {
  const client = await zk.client();
  const selector = new LeaderSelector(client, PATH, { id: 'a', autoRequeue: true });
  let seen: LeadershipTerm | undefined;
  let returned = false;
  const running = selector.run(async (term) => {
    seen = term;
    await aborted(term.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    returned = true;
  });
  await waitFor(() => seen);
  await selector.close();
  expect(returned).toBe(true);
  expect((seen?.signal.reason as LeadershipLostError).reason).toBe('closed');
  await running;
  expect(await children(client, PATH)).toEqual([]);
  await expect(selector.run(() => undefined)).rejects.toBeInstanceOf(ElectionClosedError);
});

test('selector - a run ends with its own signal or timeout, leaving no node behind', async ({
  zk,
}) => {
  const [a, b] = await Promise.all([zk.client(), zk.client()]);
  const holder = new LeaderSelector(a, PATH, { id: 'holder' });
  const release = gate();
  let held = false;
  const holding = holder.run(async () => {
    held = true;
    await release.promise;
  });
  await waitFor(() => held);
  const waiter = new LeaderSelector(b, PATH, { id: 'waiter' });
  const timedOut = await waiter.run(() => undefined, { timeout: 200 }).catch((e: unknown) => e);
  expect((timedOut as DOMException).name).toBe('TimeoutError');
  expect(await children(a, PATH)).toHaveLength(1);
  const controller = new AbortController();
  const aborting = waiter.run(() => undefined, { signal: controller.signal });
  await waitFor(async () => (await children(a, PATH)).length === 2);
  controller.abort(new Error('stop'));
  await expect(aborting).rejects.toThrow('stop');
  expect(await children(a, PATH)).toHaveLength(1);
  release.open();
  await holding;
  await holder.close();
  await waiter.close();
});

test('selector - rejects misuse', async ({ zk }) => {
  const client = await zk.client();
  const selector = new LeaderSelector(client, PATH);
  expect(() => selector.run(42 as never)).toThrow(InvalidArgumentError);
  expect(() => new LeaderSelector(client, PATH, { autoRequeue: 'yes' as never })).toThrow(
    InvalidArgumentError,
  );
  const release = gate();
  const running = selector.run(() => release.promise);
  await expect(selector.run(() => undefined)).rejects.toBeInstanceOf(ElectionStateError);
  release.open();
  await running;
  await selector.close();
});

test("selector - the term aborts when the leader's connection drops; the next leads after the function returns", async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const leaderClient = await zk.client({
    connectString: proxy.connectString,
    sessionTimeout: 8000,
  });
  const otherClient = await zk.client();
  const log = new TermLog();
  const leader = log.selector('leader', new LeaderSelector(leaderClient, PATH, { id: 'leader' }));
  const other = log.selector('other', new LeaderSelector(otherClient, PATH, { id: 'other' }));
  let term: LeadershipTerm | undefined;
  const stopped = gate();
  const leading = leader.run(async (t) => {
    log.granted('leader', t);
    term = t;
    await aborted(t.signal);
    await stopped.promise;
  });
  await waitFor(() => term);
  const waiting = other.run((t) => log.granted('other', t));
  await waitFor(async () => (await children(otherClient, PATH)).length === 2);

  proxy.drop();
  await waitFor(() => term?.signal.aborted);
  const reason = term?.signal.reason as LeadershipLostError;
  expect(reason.reason).toBe('session');
  expect(reason.cause).toBeInstanceOf(ConnectionLossError);
  // The session survived: until the function returns, the node stays and nobody else leads.
  await waitFor(() => leaderClient.isConnected);
  expect(await settled(waiting)).toBe(false);
  expect(await children(otherClient, PATH)).toHaveLength(2);
  stopped.open();
  await leading;
  await waiting;
  expect(log.terms.map((t) => t.who)).toEqual(['leader', 'other']);
  expect(log.violations).toEqual([]);
  await leader.close();
  await other.close();
});

test("selector - another participant takes over when the leader's session expires", async ({
  zk,
}) => {
  const leaderClient = await zk.client({ sessionTimeout: 2000 });
  const otherClient = await zk.client({ sessionTimeout: 4000 });
  const log = new TermLog();
  const leader = log.selector(
    'leader',
    new LeaderSelector(leaderClient, PATH, { id: 'leader', autoRequeue: true }),
  );
  const other = log.selector('other', new LeaderSelector(otherClient, PATH, { id: 'other' }));
  const sessions: (string | undefined)[] = [];
  const leading = leader.run(async (t) => {
    log.granted('leader', t);
    sessions.push(leaderClient.sessionId);
    await aborted(t.signal);
  });
  const first = (await log.nth(1)).term;
  const otherTerm = gate();
  const waiting = other.run(async (t) => {
    log.granted('other', t);
    await otherTerm.promise;
  });
  await waitFor(async () => (await children(otherClient, PATH)).length === 2);
  const deadSession = leaderClient.sessionId;

  const t0 = performance.now();
  await expireSession(leaderClient);
  expect(first.signal.aborted).toBe(true);
  const takeover = await log.nth(2);
  expect(takeover.who).toBe('other');
  expect(takeover.at - t0).toBeLessThan(2000);
  expect(takeover.term.fencingToken).toBeGreaterThan(first.fencingToken);
  // The old leader requeues once on its new session, behind the new leader.
  await waitFor(async () => (await children(otherClient, PATH)).length === 2);
  expect(leader.hasLeadership).toBe(false);
  otherTerm.open();
  await waiting;
  const back = await log.nth(3);
  expect(back.who).toBe('leader');
  expect(sessions).toEqual([deadSession, leaderClient.sessionId]);
  expect(log.violations).toEqual([]);
  await leader.close();
  await leading;
  await other.close();
  expect(await children(otherClient, PATH)).toEqual([]);
});

test('selector - without an id its node carries the local address, as Curator writes; an id wins', async ({
  zk,
}) => {
  const client = await zk.client();
  const plain = new LeaderSelector(client, PATH);
  const named = new LeaderSelector(client, PATH, { id: 'worker-2' });
  const release = gate();
  const leading = plain.run(() => release.promise);
  await waitFor(async () => (await plain.leader()) !== null);
  const following = named.run(() => undefined);
  await waitFor(async () => (await children(client, PATH)).length === 2);
  const data = await Promise.all(
    (await children(client, PATH))
      .sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)))
      .map(async (name) => (await client.get(`${PATH}/${name}`)).data.toString()),
  );
  expect(data).toEqual([defaultNodeData(), 'worker-2']);
  expect(plain.id).toBe('');
  expect((await plain.participants()).map((p) => p.id)).toEqual([defaultNodeData(), 'worker-2']);
  release.open();
  await leading;
  await following;
  await Promise.all([plain.close(), named.close()]);
});
