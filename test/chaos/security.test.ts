/**
 * Security: recipes under a path whose ACL admits one digest identity, entered by clients that do
 * not have it; that identity surviving a session loss; and two applications sharing one server
 * through different chroots.
 *
 * Every node the owner creates carries the restricted ACL (`defaultAcl`), the recipes' container
 * parents included, so the fixture's unauthenticated cleanup cannot remove them: each test removes
 * its restricted tree itself with the owner's client.
 */
import { Barrier, DoubleBarrier } from '@zkit/barrier';
import {
  InvalidPathError,
  NoAuthError,
  NoNodeError,
  Perms,
  type Acl,
  type ConnectionState,
  type ZkClient,
} from '@zkit/core';
import { LeaderLatch, LeaderSelector } from '@zkit/election';
import { Mutex, ReadWriteLock, Semaphore } from '@zkit/lock';
import { Queue } from '@zkit/queue';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';

const OWNER = { scheme: 'digest', credentials: 'billing:s3cret' } as const;
/** Every permission for the identities the creating session is authenticated as; nobody else. */
const OWNER_ONLY: readonly Acl[] = [{ perms: Perms.all, scheme: 'auth', id: '' }];
const SECURE = '/secure';

/** Every node under `path`, depth first, sorted; `[]` when it does not exist. */
async function tree(client: ZkClient, path: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await client.getChildren(path)).sort();
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
  const out: string[] = [];
  for (const name of names) {
    const child = path === '/' ? `/${name}` : `${path}/${name}`;
    out.push(child, ...(await tree(client, child)));
  }
  return out;
}

/** The rejection of `promise`, or a marker when it fulfils. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return 'fulfilled';
}

/** Asserts a typed `NoAuthError` (not a timeout standing for a hang, not a generic error). */
function expectNoAuth(error: unknown): void {
  expect(error).toBeInstanceOf(NoAuthError);
  expect((error as NoAuthError).constructor).toBe(NoAuthError);
  expect((error as NoAuthError).code).toBe('NO_AUTH');
}

/** The first message of a consumer. */
async function first<T>(messages: AsyncIterable<T>): Promise<T | undefined> {
  for await (const message of messages) return message;
  return undefined;
}

/** A client of the owning application: authenticated, and restricting what it creates. */
function owner(zk: { client: (o?: object) => Promise<ZkClient> }, sessionTimeout = 10_000) {
  return zk.client({ auth: [OWNER], defaultAcl: OWNER_ONLY, sessionTimeout });
}

function record(client: ZkClient): ConnectionState[] {
  const seen: ConnectionState[] = [];
  client.on('state', (now) => seen.push(now));
  return seen;
}

describe('security', () => {
  test('security - an unauthenticated client entering restricted recipes gets NoAuthError and leaves nothing behind', async ({
    zk,
  }) => {
    const billing = await owner(zk);
    await billing.create(SECURE, '');
    try {
      // The owner holds the lock, leads the election, has queued a job and raised a barrier, so
      // every recipe node exists, carries the ACL, and stays (a held lock keeps its container).
      const lease = await new Mutex(billing, `${SECURE}/lock`).acquire({ timeout: 10_000 });
      const latch = new LeaderLatch(billing, `${SECURE}/leader`, { id: 'billing-1' });
      await latch.start({ timeout: 10_000 });
      expect(latch.hasLeadership).toBe(true);
      const jobs = new Queue<string>(billing, `${SECURE}/jobs`);
      await jobs.put('invoice-1');
      await new Barrier(billing, `${SECURE}/gate`).raise();
      // (getAcl only on a node that exists and that we may read: the binding crashes the process
      // when a getAcl fails.)
      const { acl } = await billing.getAcl(SECURE);
      expect(acl.map((a) => `${a.scheme}:${a.id.split(':')[0]}`)).toEqual(['digest:billing']);
      const before = await tree(billing, SECURE);

      const stranger = await zk.client({ sessionTimeout: 10_000 });
      // A wrong password is no better than none.
      const impostor = await zk.client({
        sessionTimeout: 10_000,
        auth: [{ scheme: 'digest', credentials: 'billing:guess' }],
      });
      for (const client of [stranger, impostor]) {
        // The timeouts only bound a hang; a NoAuthError must come first.
        const mutex = new Mutex(client, `${SECURE}/lock`);
        expectNoAuth(await rejection(mutex.acquire({ timeout: 10_000 })));
        expectNoAuth(await rejection(mutex.tryAcquire()));
        // A recipe path that does not exist yet: its container cannot be created either.
        expectNoAuth(
          await rejection(new Mutex(client, `${SECURE}/other`).acquire({ timeout: 10_000 })),
        );
        expectNoAuth(
          await rejection(new Semaphore(client, `${SECURE}/slots`, 2).acquire({ timeout: 10_000 })),
        );
        const rival = new LeaderLatch(client, `${SECURE}/leader`, { id: 'intruder' });
        expectNoAuth(await rejection(rival.start({ timeout: 10_000 })));
        expect(rival.state).toBe('closed');
        expect(rival.hasLeadership).toBe(false);
        const queue = new Queue<string>(client, `${SECURE}/jobs`);
        expectNoAuth(await rejection(queue.put('forged')));
        expectNoAuth(await rejection(queue.take({ timeout: 10_000 })));
        expectNoAuth(
          await rejection(first(queue.consume({ signal: AbortSignal.timeout(10_000) }))),
        );
        await queue.close();
        const selector = new LeaderSelector(client, `${SECURE}/leader`, { id: 'intruder' });
        let led = false;
        const run = selector.run(
          async () => {
            led = true;
          },
          { timeout: 10_000 },
        );
        expectNoAuth(await rejection(run));
        expect(led).toBe(false);
        await selector.close();
        const rw = new ReadWriteLock(client, `${SECURE}/catalog`);
        expectNoAuth(await rejection(rw.readLock.acquire({ timeout: 10_000 })));
        expectNoAuth(await rejection(rw.writeLock.acquire({ timeout: 10_000 })));
        const double = new DoubleBarrier(client, `${SECURE}/batch`, { members: 2 });
        expectNoAuth(await rejection(double.enter({ timeout: 10_000 })));
        expectNoAuth(await rejection(new Barrier(client, `${SECURE}/gate`).lower()));
        expectNoAuth(await rejection(client.get(`${SECURE}/jobs`)));
        expectNoAuth(await rejection(client.getChildren(SECURE)));
        // The refusals did not hurt the client: it still works where it is allowed to.
        await client.create('/open', 'ok', { mode: 'ephemeral' });
        await client.delete('/open');
        expect(client.state).toBe('connected');
      }

      // Nothing left behind, nothing taken: the owner's tree is exactly as it was.
      expect(await tree(billing, SECURE)).toEqual(before);
      expect(lease.held).toBe(true);
      expect(lease.signal.aborted).toBe(false);
      await lease.release();
      expect(latch.hasLeadership).toBe(true);
      expect(await latch.leader()).toBe('billing-1');
      expect(await jobs.take({ timeout: 10_000 })).toBe('invoice-1');
      expect(await new Barrier(billing, `${SECURE}/gate`).isRaised()).toBe(true);
      await latch.close();
      await jobs.close();
    } finally {
      await billing.deleteRecursive(SECURE);
    }
  });

  test('security - credentials are re-applied on the new session after the old one expires', async ({
    zk,
  }) => {
    // Credentials from the options, and credentials added later with addAuth: both survive.
    const billing = await owner(zk, 4000);
    // `other` restricts what it creates as well: the lock's parent is a container, which the server
    // reaps once it is empty, and the next acquire re-creates it with the default ACL of the client
    // that acquires. Created world-open, it would let the stranger below in.
    const other = await zk.client({ defaultAcl: OWNER_ONLY, sessionTimeout: 4000 });
    await other.addAuth(OWNER.scheme, OWNER.credentials);
    await billing.create(SECURE, '');
    try {
      const mutex = new Mutex(billing, `${SECURE}/lock`);
      const first = await mutex.acquire({ timeout: 10_000 });
      const latch = new LeaderLatch(billing, `${SECURE}/leader`, { id: 'billing-1' });
      await latch.start({ timeout: 10_000 });
      const firstTerm = await latch.awaitLeadership({ timeout: 10_000 });

      for (const client of [billing, other]) {
        const seen = record(client);
        const sessionBefore = client.sessionId;
        await expireSession(client);
        await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
        expect(seen).toContain('lost');
        expect(client.sessionId).not.toBe(sessionBefore);
      }
      expect(first.signal.aborted).toBe(true);
      expect(firstTerm.signal.aborted).toBe(true);

      // The new session still speaks as `billing`: it takes the restricted lock again, and the
      // latch re-enters the restricted election.
      const second = await mutex.acquire({ timeout: 10_000 });
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
      const secondTerm = await latch.awaitLeadership({ timeout: 15_000 });
      expect(secondTerm.fencingToken).toBeGreaterThan(firstTerm.fencingToken);
      await second.release();
      // So does the client that authenticated with addAuth, re-creating the reaped lock parent.
      await waitFor(async () => (await billing.exists(`${SECURE}/lock`)) === null);
      const third = await new Mutex(other, `${SECURE}/lock`).acquire({ timeout: 10_000 });
      expect(third.fencingToken).toBeGreaterThan(second.fencingToken);
      await third.release();
      expect((await other.get(SECURE)).data.length).toBe(0);
      await latch.close();

      // While a stranger still cannot.
      const stranger = await zk.client({ sessionTimeout: 10_000 });
      expectNoAuth(
        await rejection(new Mutex(stranger, `${SECURE}/lock`).acquire({ timeout: 10_000 })),
      );
    } finally {
      await billing.deleteRecursive(SECURE);
    }
  });

  test('security - two applications with their own chroots share recipe paths without seeing or blocking each other', async ({
    zk,
  }) => {
    const root = await zk.client();
    await root.create('/app-a', '');
    await root.create('/app-b', '');
    const a = await zk.client({ connectString: `${zk.connectString}/app-a` });
    const b = await zk.client({ connectString: `${zk.connectString}/app-b` });
    // A third application on the same server through the client's namespace option.
    const c = await zk.client({ namespace: '/app-c' });

    // The same lock path: each application holds its own lock at once.
    const leases = await Promise.all(
      [a, b, c].map((client) => new Mutex(client, '/locks/report').acquire({ timeout: 10_000 })),
    );
    // The same election path: each application has its own leader.
    const latches = [a, b, c].map(
      (client, i) => new LeaderLatch(client, '/election', { id: `app-${'abc'[i]}` }),
    );
    await Promise.all(latches.map((latch) => latch.start({ timeout: 10_000 })));
    expect(latches.map((latch) => latch.hasLeadership)).toEqual([true, true, true]);
    // The same queue path: each application takes back only its own item.
    const queues = [a, b, c].map((client) => new Queue<string>(client, '/jobs'));
    await Promise.all(queues.map((queue, i) => queue.put(`job-${'abc'[i]}`)));
    expect(await Promise.all(queues.map((queue) => queue.take({ timeout: 10_000 })))).toEqual([
      'job-a',
      'job-b',
      'job-c',
    ]);

    // Each sees only its own nodes, under the same names.
    const views = await Promise.all([a, b, c].map((client) => tree(client, '/')));
    const shape = (view: string[]) => view.map((p) => p.replace(/_c_[0-9a-f-]{36}-/, '_c_*-'));
    expect(shape(views[0] as string[])).toEqual(shape(views[1] as string[]));
    for (const [i, client] of [a, b, c].entries()) {
      // Another application's lease node is not there for this one…
      const foreign = leases[(i + 1) % 3]?.path as string;
      expect(await client.exists(foreign)).toBeNull();
      await expect(client.get(foreign)).rejects.toBeInstanceOf(NoNodeError);
      expect((await latches[i]?.participants())?.map((p) => p.id)).toEqual([`app-${'abc'[i]}`]);
    }
    // …and no path leads out of a chroot.
    await expect(a.get('/../app-b/jobs')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(a.getChildren('/..')).rejects.toBeInstanceOf(InvalidPathError);
    // The whole picture, from above: three separate trees.
    for (const app of ['app-a', 'app-b', 'app-c']) {
      expect(await root.exists(`/${app}/locks/report`)).not.toBeNull();
    }

    await Promise.all(leases.map((lease) => lease.release()));
    await Promise.all(latches.map((latch) => latch.close()));
    await Promise.all(queues.map((queue) => queue.close()));
  });
});
