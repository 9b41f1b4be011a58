import diagnostics from 'node:diagnostics_channel';
import {
  InvalidArgumentError,
  InvalidPathError,
  NoAuthError,
  NotEmptyError,
  Perms,
  type OpMessage,
} from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import {
  ElectionClosedError,
  ElectionStateError,
  LeaderLatch,
  LeadershipLostError,
  type LeadershipTerm,
  type Participant,
} from '../src/index.js';
import { children, settled, TermLog } from './helpers.js';

const PATH = '/election/scheduler';

test('latch - a lone participant leads once started, in the Curator layout', async ({ zk }) => {
  const client = await zk.client();
  const latch = new LeaderLatch(client, PATH, { id: 'node-a' });
  const elected: LeadershipTerm[] = [];
  latch.on('elected', (term) => elected.push(term));
  expect(latch.state).toBe('latent');
  await latch.start();
  expect(latch.state).toBe('started');
  expect(latch.hasLeadership).toBe(true);
  expect(elected).toHaveLength(1);
  const term = elected[0] as LeadershipTerm;
  expect(term.participantId).toBe('node-a');
  expect(term.signal.aborted).toBe(false);
  expect(term.path).toBe(latch.nodePath);
  expect(latch.term).toBe(term);

  const names = await children(client, PATH);
  expect(names).toHaveLength(1);
  expect(names[0]).toMatch(/^_c_[0-9a-f-]{36}-latch-\d{10}$/);
  const { data, stat } = await client.get(`${PATH}/${names[0]}`);
  expect(data.toString('utf8')).toBe('node-a');
  expect(stat.ephemeralOwner).toBe(client.sessionId);
  // The token is the parent's pzxid when we found ourselves first: at least our own create.
  expect(term.fencingToken).toBeGreaterThanOrEqual(stat.czxid);

  await latch.close();
  expect(latch.state).toBe('closed');
  expect(term.signal.aborted).toBe(true);
  expect(term.signal.reason).toBeInstanceOf(LeadershipLostError);
  expect((term.signal.reason as LeadershipLostError).reason).toBe('closed');
  expect(latch.hasLeadership).toBe(false);
  expect(latch.nodePath).toBeUndefined();
  expect(await children(client, PATH)).toEqual([]);
});

test('latch - leadership passes in joining order on close, with growing fencing tokens', async ({
  zk,
}) => {
  const log = new TermLog();
  const clients = await Promise.all([zk.client(), zk.client(), zk.client()]);
  const latches = clients.map((c, i) =>
    log.latch(`p${i}`, new LeaderLatch(c, PATH, { id: `p${i}` })),
  );
  for (const latch of latches) await latch.start();
  expect(latches.map((l) => l.hasLeadership)).toEqual([true, false, false]);
  expect(await latches[2]?.leader()).toBe('p0');

  const revoked: string[] = [];
  latches[0]?.on('revoked', () => revoked.push('p0'));
  await latches[0]?.close();
  expect((await log.nth(2)).who).toBe('p1');
  await latches[1]?.close();
  expect((await log.nth(3)).who).toBe('p2');
  await latches[2]?.close();
  // Closing is silent by default.
  expect(revoked).toEqual([]);
  expect(log.terms.map((t) => t.who)).toEqual(['p0', 'p1', 'p2']);
  expect(log.violations).toEqual([]);
  expect(await children(clients[0] as never, PATH)).toEqual([]);
});

test('latch - close with notifyLeader tells the leader before it resolves', async ({ zk }) => {
  const client = await zk.client();
  const latch = new LeaderLatch(client, PATH, { id: 'a' });
  const events: string[] = [];
  latch.on('elected', () => events.push('elected'));
  latch.on('revoked', (_term, reason) => events.push(`revoked:${reason.reason}`));
  await latch.start();
  await latch.close({ mode: 'notifyLeader' });
  expect(events).toEqual(['elected', 'revoked:closed']);
});

test('latch - close is idempotent, works before start, and rejects pending waits', async ({
  zk,
}) => {
  const [a, b] = await Promise.all([zk.client(), zk.client()]);
  const leader = new LeaderLatch(a, PATH, { id: 'a' });
  await leader.start();
  const follower = new LeaderLatch(b, PATH, { id: 'b' });
  await follower.start();
  const waiting = follower.awaitLeadership();
  expect(await settled(waiting)).toBe(false);
  const first = follower.close();
  expect(follower.close()).toBe(first);
  await first;
  await expect(waiting).rejects.toBeInstanceOf(ElectionClosedError);
  await expect(follower.awaitLeadership()).rejects.toBeInstanceOf(ElectionClosedError);
  await expect(follower.start()).rejects.toBeInstanceOf(ElectionStateError);
  expect(await children(a, PATH)).toHaveLength(1);

  const never = new LeaderLatch(a, PATH);
  await never.close();
  expect(never.state).toBe('closed');
  await leader.close();
  expect(await children(a, PATH)).toEqual([]);
});

test('latch - awaitLeadership resolves with the term, and honours timeout and abort', async ({
  zk,
}) => {
  const [a, b] = await Promise.all([zk.client(), zk.client()]);
  const first = new LeaderLatch(a, PATH, { id: 'a' });
  await first.start();
  expect(await first.awaitLeadership()).toBe(first.term);
  const second = new LeaderLatch(b, PATH, { id: 'b' });
  await second.start();
  const timedOut = await second.awaitLeadership({ timeout: 100 }).catch((e: unknown) => e);
  expect((timedOut as DOMException).name).toBe('TimeoutError');
  const controller = new AbortController();
  const aborted = second.awaitLeadership({ signal: controller.signal });
  controller.abort(new Error('stop'));
  await expect(aborted).rejects.toThrow('stop');

  const waiting = second.awaitLeadership({ timeout: 10_000 });
  await first.close();
  const term = await waiting;
  expect(term.participantId).toBe('b');
  expect(second.hasLeadership).toBe(true);
  await second.close();
});

test('latch - start rejects and closes the latch on timeout or abort', async ({ zk }) => {
  const client = await zk.client();
  const controller = new AbortController();
  controller.abort(new Error('never mind'));
  const latch = new LeaderLatch(client, PATH);
  await expect(latch.start({ signal: controller.signal })).rejects.toThrow('never mind');
  expect(latch.state).toBe('closed');
  await waitFor(async () => (await children(client, PATH)).length === 0);
});

test('latch - participants and leader() read the line in election order', async ({ zk }) => {
  const clients = await Promise.all([zk.client(), zk.client(), zk.client()]);
  const observer = new LeaderLatch(clients[0] as never, PATH);
  expect(await observer.leader()).toBeNull();
  expect(await observer.participants()).toEqual([]);
  const latches = clients.map((c, i) => new LeaderLatch(c, PATH, { id: `id-${i}` }));
  for (const latch of latches) await latch.start();
  const participants = await observer.participants();
  expect(participants.map((p: Participant) => [p.id, p.isLeader])).toEqual([
    ['id-0', true],
    ['id-1', false],
    ['id-2', false],
  ]);
  expect(participants.map((p) => p.path)).toEqual(latches.map((l) => l.nodePath));
  expect(await observer.leader()).toBe('id-0');
  for (const latch of latches) await latch.close();
});

test('latch - observe reports each leader change to a non-participant', async ({ zk }) => {
  const [watcherClient, a, b] = await Promise.all([zk.client(), zk.client(), zk.client()]);
  const seen: (string | null)[] = [];
  const controller = new AbortController();
  const observing = (async () => {
    for await (const leader of new LeaderLatch(watcherClient, PATH).observe({
      signal: controller.signal,
    })) {
      seen.push(leader?.id ?? null);
    }
  })();
  await waitFor(() => seen.length === 1);
  expect(seen).toEqual([null]);
  const first = new LeaderLatch(a, PATH, { id: 'a' });
  await first.start();
  const second = new LeaderLatch(b, PATH, { id: 'b' });
  await second.start();
  await waitFor(() => seen.at(-1) === 'a');
  await first.close();
  await waitFor(() => seen.at(-1) === 'b');
  await second.close();
  await waitFor(() => seen.at(-1) === null);
  controller.abort();
  await observing;
  // Each change once; a follower joining is not a change.
  expect(seen).toEqual([null, 'a', 'b', null]);
});

test('latch - rejects bad input before any request', async ({ zk }) => {
  const client = await zk.client();
  expect(() => new LeaderLatch(client, 'no-slash')).toThrow(InvalidPathError);
  expect(() => new LeaderLatch(client, PATH, { id: 7 as unknown as string })).toThrow(
    InvalidArgumentError,
  );
  const latch = new LeaderLatch(client, PATH);
  expect(() => latch.close({ mode: 'loud' as never })).toThrow(InvalidArgumentError);
  expect(() => latch.awaitLeadership({ timeout: -1 })).toThrow(InvalidArgumentError);
});

test('latch - re-enters when the election path is deleted under it', async ({ zk }) => {
  const [a, admin] = await Promise.all([zk.client(), zk.client()]);
  const log = new TermLog();
  const latch = log.latch('a', new LeaderLatch(a, PATH, { id: 'a' }));
  await latch.start();
  const firstNode = latch.nodePath;
  const first = (await log.nth(1)).term;
  // The latch may re-enter between the deletion of its node and that of the path, which then
  // stays (NotEmptyError): its node was deleted under it either way.
  await admin.deleteRecursive(PATH).catch((error: unknown) => {
    if (!(error instanceof NotEmptyError)) throw error;
  });
  await waitFor(() => first.signal.aborted);
  expect((first.signal.reason as LeadershipLostError).reason).toBe('deleted');
  const second = (await log.nth(2)).term;
  expect(second.path).not.toBe(firstNode);
  expect(await children(admin, PATH)).toHaveLength(1);
  expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
  expect(log.violations).toEqual([]);
  await latch.close();
});

test('latch - start rejects with the server error when it cannot join, and closes the latch', async ({
  zk,
}) => {
  const client = await zk.client();
  await client.create('/locked', '', {
    acl: [{ perms: Perms.read | Perms.delete | Perms.admin, scheme: 'world', id: 'anyone' }],
  });
  const latch = new LeaderLatch(client, '/locked/election');
  await expect(latch.start()).rejects.toBeInstanceOf(NoAuthError);
  expect(latch.state).toBe('closed');
});

test('latch - reports errors after joining and keeps trying until it can enter again', async ({
  zk,
}) => {
  const [client, admin] = await Promise.all([zk.client(), zk.client()]);
  await admin.create('/guarded');
  const log = new TermLog();
  const latch = log.latch('a', new LeaderLatch(client, '/guarded/election', { id: 'a' }));
  const errors: unknown[] = [];
  latch.on('error', (error) => errors.push(error));
  await latch.start();
  const first = (await log.nth(1)).term;
  // Nobody may create under the parent any more; the election path goes away with our node.
  await admin.setAcl('/guarded', [
    { perms: Perms.read | Perms.delete | Perms.admin, scheme: 'world', id: 'anyone' },
  ]);
  // The latch may re-enter between the deletion of its node and of the election node (the
  // election node itself still lets anyone create): delete again until the election node is gone.
  await waitFor(() =>
    admin.deleteRecursive('/guarded/election').then(
      () => true,
      (error: unknown) => {
        if (error instanceof NotEmptyError) return false;
        throw error;
      },
    ),
  );
  await waitFor(() => first.signal.aborted);
  await waitFor(() => errors.length > 0);
  expect(errors[0]).toBeInstanceOf(NoAuthError);
  expect(latch.state).toBe('started');
  await admin.setAcl('/guarded', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
  const second = (await log.nth(2)).term;
  expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
  await latch.close();
});

test('latch - joining sends the listing with the create, and the listing decides', async ({
  zk,
}) => {
  const [a, b] = await Promise.all([zk.client(), zk.client()]);
  await a.create(PATH, undefined, { parents: 'persistent' });
  const spans = new Map<string, { start: number; end: number }>();
  const onOp = (message: unknown) => {
    const m = message as OpMessage;
    if (m.client !== b) return;
    const end = performance.now();
    if (!spans.has(m.op)) spans.set(m.op, { start: end - m.durationMs, end });
  };
  const first = new LeaderLatch(a, PATH, { id: 'a' });
  await first.start();
  const second = new LeaderLatch(b, PATH, { id: 'b' });
  diagnostics.subscribe('zkit:op', onOp);
  try {
    await second.start();
  } finally {
    diagnostics.unsubscribe('zkit:op', onOp);
  }
  expect(first.hasLeadership).toBe(true);
  expect(second.hasLeadership).toBe(false);
  expect(spans.get('getChildren')!.start).toBeLessThan(spans.get('create')!.end);
  await first.close();
  await waitFor(() => second.hasLeadership);
  await second.close();
});
