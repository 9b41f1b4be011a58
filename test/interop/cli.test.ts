import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DoubleBarrier } from '@zkit/barrier';
import { defaultNodeData } from '@zkit/core';
import { LeaderLatch, LeaderSelector } from '@zkit/election';
import { Mutex, ReadWriteLock, Semaphore } from '@zkit/lock';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { afterAll, describe, expect } from 'vitest';
import { startCuratorAgent, type CuratorAgent } from './curator-agent.js';
import { childrenOrNone as children } from './helpers.js';

// The `zkit` binary against a real server while Apache Curator (the agent) and zkit hold locks,
// lead, queue and register on the same paths: every table and JSON document must name Curator's
// parties by their session and by the data Curator stores by default (its local address), in
// order, with the right counts. One agent for the file, on the server's root: each test's paths
// are under that test's chroot, which the binary gets with --server.

const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function zkit(connectString: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--server', connectString],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The table's rows after its title line, tab-separated (stdout is not a terminal). */
async function table(connectString: string, args: readonly string[]) {
  const run = await zkit(connectString, args);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const [title, ...rows] = run.stdout.trimEnd().split('\n');
  return { title, rows: rows.map((r) => r.split('\t')) };
}

async function json<T>(connectString: string, args: readonly string[]): Promise<T> {
  const run = await zkit(connectString, [...args, '--json']);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as T;
}

type Node = Record<string, unknown>;

let started: Promise<{ agent: CuratorAgent; address: string }> | undefined;

/** The file's one agent, on the server without a chroot; started by the first test. */
function curator(serverConnectString: string) {
  started ??= startCuratorAgent(serverConnectString).then(async (agent) => ({
    agent,
    address: (await agent.send('localaddress')).address as string,
  }));
  return started;
}

afterAll(async () => {
  await (await started)?.agent.close();
});

describe('zkit against Curator', () => {
  test('interop cli - lock: a Curator mutex holder, zkit waiters', async ({ zk }) => {
    const { agent, address } = await curator(zk.serverConnectString);
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    await agent.send('mutex.acquire', `${zk.chroot}/locks/m`, 10_000);
    const named = new Mutex(a, '/locks/m', { data: 'zkit-a' }).acquire();
    await waitFor(async () => (await children(a, '/locks/m')).length === 2);
    const plain = new Mutex(b, '/locks/m').acquire();
    await waitFor(async () => (await children(a, '/locks/m')).length === 3);

    const { title, rows } = await table(zk.connectString, ['lock', '/locks/m']);
    expect(title).toMatch(/^\/locks\/m: held, fencing token \d+\.\.\d+ \(/);
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['ROLE', 'SESSION', 'DATA'],
      ['holder', agent.sessionId, address],
      ['waiter', a.sessionId, 'zkit-a'],
      ['waiter', b.sessionId, defaultNodeData()],
    ]);
    const doc = await json<{ kind: string; held: boolean; nodes: Node[] }>(zk.connectString, [
      'lock',
      '/locks/m',
    ]);
    expect(doc).toMatchObject({ kind: 'mutex', held: true });
    expect(doc.nodes.map((n) => [n.role, n.sessionId, n.data])).toEqual([
      ['holder', agent.sessionId, address],
      ['waiter', a.sessionId, 'zkit-a'],
      ['waiter', b.sessionId, defaultNodeData()],
    ]);

    await agent.send('mutex.release', `${zk.chroot}/locks/m`);
    await (await named).release();
    await (await plain).release();
  });

  test('interop cli - lock: Curator and zkit readers hold, a Curator writer waits', async ({
    zk,
  }) => {
    const { agent, address } = await curator(zk.serverConnectString);
    const client = await zk.client();
    const path = `${zk.chroot}/locks/rw`;
    await agent.send('rwlock.read.acquire', path, 10_000, 'reader');
    const read = await new ReadWriteLock(client, '/locks/rw', {
      data: 'zkit-reader',
    }).readLock.acquire();
    const writing = agent.send('rwlock.write.acquire', path, 30_000, 'writer');
    await waitFor(async () => (await children(client, '/locks/rw')).length === 3);

    const { title, rows } = await table(zk.connectString, ['lock', '/locks/rw']);
    expect(title).toBe('/locks/rw: read-write lock, read-locked by 2 readers, 1 waiting');
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['ROLE', 'MODE', 'SESSION', 'DATA'],
      ['holder', 'read', agent.sessionId, address],
      ['holder', 'read', client.sessionId, 'zkit-reader'],
      ['waiter', 'write', agent.sessionId, address],
    ]);
    expect(rows[3]?.[5]).toBe('-');
    const doc = await json<{ kind: string; nodes: Node[] }>(zk.connectString, [
      'lock',
      '/locks/rw',
    ]);
    expect(doc.kind).toBe('readWrite');
    expect(doc.nodes.map((n) => [n.role, n.mode, n.sessionId, n.data])).toEqual([
      ['holder', 'read', agent.sessionId, address],
      ['holder', 'read', client.sessionId, 'zkit-reader'],
      ['waiter', 'write', agent.sessionId, address],
    ]);
    expect(doc.nodes.map((n) => n.fencingToken === null)).toEqual([false, false, true]);

    await read.release();
    await agent.send('rwlock.read.release', path, 'reader');
    await writing;
    await agent.send('rwlock.write.release', path, 'writer');
  });

  test('interop cli - lock: a Curator lease and a zkit lease of 2 permits, a zkit waiter', async ({
    zk,
  }) => {
    const { agent, address } = await curator(zk.serverConnectString);
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    await agent.send('semaphore.acquire', `${zk.chroot}/limits/api`, 2, 10_000);
    const lease = await new Semaphore(a, '/limits/api', 2, { data: 'zkit-a' }).acquire();
    const waiting = new Semaphore(b, '/limits/api', 2).acquire();
    await waitFor(async () => (await children(a, '/limits/api/locks')).length === 1);

    const { title, rows } = await table(zk.connectString, [
      'lock',
      '/limits/api',
      '--permits',
      '2',
    ]);
    expect(title).toBe('/limits/api: semaphore, 2 of 2 leases in use, 1 waiting');
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['ROLE', 'SESSION', 'DATA'],
      ['lease', agent.sessionId, address],
      ['lease', a.sessionId, 'zkit-a'],
      ['waiter', b.sessionId, defaultNodeData()],
    ]);
    const doc = await json<{ leases: Node[]; waiters: Node[] }>(zk.connectString, [
      'lock',
      '/limits/api',
    ]);
    expect(doc).toMatchObject({ kind: 'semaphore', permits: null, inUse: 2 });
    expect(doc.leases.map((n) => [n.sessionId, n.data])).toEqual([
      [agent.sessionId, address],
      [a.sessionId, 'zkit-a'],
    ]);
    expect(doc.waiters.map((n) => [n.sessionId, n.data])).toEqual([
      [b.sessionId, defaultNodeData()],
    ]);

    await agent.send('semaphore.release', `${zk.chroot}/limits/api`);
    await (await waiting).release();
    await lease.release();
  });

  test('interop cli - leader: a Curator latch leads a zkit one; a Curator selector leads a zkit one', async ({
    zk,
  }) => {
    const { agent, address } = await curator(zk.serverConnectString);
    const client = await zk.client();
    await agent.send('latch.start', `${zk.chroot}/election/latch`, 'java-1');
    await agent.next('isLeader', { where: (e) => e.participant === 'java-1' });
    const latch = new LeaderLatch(client, '/election/latch', { id: 'zkit-1' });
    await latch.start();
    await waitFor(async () => (await children(client, '/election/latch')).length === 2);

    const latchTable = await table(zk.connectString, ['leader', '/election/latch']);
    expect(latchTable.title).toBe('/election/latch: latch election, leader java-1');
    expect(latchTable.rows.map((r) => r.slice(0, 3))).toEqual([
      ['ROLE', 'ID', 'SESSION'],
      ['leader', 'java-1', agent.sessionId],
      ['follower', 'zkit-1', client.sessionId],
    ]);
    const latchDoc = await json<{ layout: string; participants: Node[] }>(zk.connectString, [
      'leader',
      '/election/latch',
    ]);
    expect(latchDoc.layout).toBe('latch');
    expect(latchDoc.participants.map((p) => [p.id, p.leader, p.sessionId])).toEqual([
      ['java-1', true, agent.sessionId],
      ['zkit-1', false, client.sessionId],
    ]);

    // A Curator selector without an id: its node carries Curator's default data, the address.
    await agent.send('selector.start', `${zk.chroot}/election/selector`);
    await agent.next('isLeader', { where: (e) => e.path === `${zk.chroot}/election/selector` });
    const selector = new LeaderSelector(client, '/election/selector', { id: 'zkit-2' });
    const running = selector.run(() => undefined);
    await waitFor(async () => (await children(client, '/election/selector')).length === 2);
    const selectorTable = await table(zk.connectString, ['leader', '/election/selector']);
    expect(selectorTable.title).toBe(`/election/selector: selector election, leader ${address}`);
    expect(selectorTable.rows.map((r) => r.slice(0, 3))).toEqual([
      ['ROLE', 'ID', 'SESSION'],
      ['leader', address, agent.sessionId],
      ['follower', 'zkit-2', client.sessionId],
    ]);
    const selectorDoc = await json<{ layout: string; participants: Node[] }>(zk.connectString, [
      'leader',
      '/election/selector',
    ]);
    expect(selectorDoc.layout).toBe('selector');
    expect(selectorDoc.participants.map((p) => [p.id, p.leader, p.sessionId])).toEqual([
      [address, true, agent.sessionId],
      ['zkit-2', false, client.sessionId],
    ]);

    await agent.send('selector.close', `${zk.chroot}/election/selector`);
    await running;
    await selector.close();
    await agent.send('latch.close', `${zk.chroot}/election/latch`, 'java-1');
    await latch.close();
  });

  test('interop cli - barrier: a Curator barrier up; a Curator member of a double barrier, then a zkit one', async ({
    zk,
  }) => {
    const { agent } = await curator(zk.serverConnectString);
    const client = await zk.client();
    await agent.send('barrier.set', `${zk.chroot}/deploy/gate`);
    expect((await zkit(zk.connectString, ['barrier', '/deploy/gate'])).stdout).toBe(
      '/deploy/gate: up\n',
    );
    await agent.send('barrier.remove', `${zk.chroot}/deploy/gate`);

    const path = `${zk.chroot}/batch/round`;
    const curatorIn = agent.send('barrier.enter', path, 2, 30_000);
    await waitFor(async () => (await children(client, '/batch/round')).length === 1);
    const { title, rows } = await table(zk.connectString, ['barrier', '/batch/round']);
    expect(title).toBe('/batch/round: up, 1 entered');
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['MEMBER', 'SESSION'],
      [(await children(client, '/batch/round'))[0], agent.sessionId],
    ]);
    const member = new DoubleBarrier(client, '/batch/round', { members: 2 });
    await Promise.all([curatorIn, member.enter({ timeout: 30_000 })]);
    const doc = await json<{ up: boolean; ready: boolean; members: Node[] }>(zk.connectString, [
      'barrier',
      '/batch/round',
    ]);
    expect(doc).toMatchObject({ up: true, ready: true });
    expect(doc.members.map((m) => m.sessionId).sort()).toEqual(
      [agent.sessionId, client.sessionId].sort(),
    );
    await Promise.all([
      agent.send('barrier.leave', path, 2, 30_000),
      member.leave({ timeout: 30_000 }),
    ]);
  });

  test("interop cli - queue and services: Curator's items and instances", async ({ zk }) => {
    const { agent } = await curator(zk.serverConnectString);
    for (const item of ['job-0', 'job-1', 'job-2']) {
      await agent.send('queue.put', `${zk.chroot}/q/jobs`, item);
    }
    const queue = await table(zk.connectString, ['queue', '/q/jobs', '--peek', '2']);
    expect(queue.title).toMatch(/^\/q\/jobs: 3 items, oldest \d+s \(queue-0000000000\), 0 claimed/);
    expect(queue.rows.map((r) => [r[0], r[2]])).toEqual([
      ['ITEM', 'VALUE'],
      ['queue-0000000000', 'job-0'],
      ['queue-0000000001', 'job-1'],
    ]);
    const queueDoc = await json<{ depth: number; items: Node[] }>(zk.connectString, [
      'queue',
      '/q/jobs',
      '--peek',
      '3',
    ]);
    expect(queueDoc.depth).toBe(3);
    expect(queueDoc.items.map((i) => i.values)).toEqual([['job-0'], ['job-1'], ['job-2']]);

    const base = `${zk.chroot}/services`;
    await agent.send('discovery.register', base, 'api', 'java-1', '10.0.0.1', 8081);
    await agent.send('discovery.register', base, 'api', 'java-2', '10.0.0.2', 8082);
    await agent.send('discovery.register', base, 'billing', 'java-3', '10.0.0.3', 9090);
    const services = await table(zk.connectString, ['services', '/services']);
    expect(services.title).toBe('/services: 2 services, 3 instances');
    expect(services.rows.map((r) => r.slice(0, 4))).toEqual([
      ['SERVICE', 'ID', 'ADDRESS', 'PORT'],
      ['api', 'java-1', '10.0.0.1', '8081'],
      ['api', 'java-2', '10.0.0.2', '8082'],
      ['billing', 'java-3', '10.0.0.3', '9090'],
    ]);
    const servicesDoc = await json<{ services: { name: string; instances: Node[] }[] }>(
      zk.connectString,
      ['services', '/services', 'api'],
    );
    expect(
      servicesDoc.services.map((s) => [s.name, s.instances.map((i) => [i.id, i.address, i.port])]),
    ).toEqual([
      [
        'api',
        [
          ['java-1', '10.0.0.1', 8081],
          ['java-2', '10.0.0.2', 8082],
        ],
      ],
    ]);
    for (const [name, id] of [
      ['api', 'java-1'],
      ['api', 'java-2'],
      ['billing', 'java-3'],
    ] as const) {
      await agent.send('discovery.unregister', base, name, id);
    }
  });

  test("interop cli - top: Curator's mutex, read-write lock, semaphore, latch, queue and instance, in one view", async ({
    zk,
  }) => {
    const { agent, address } = await curator(zk.serverConnectString);
    const at = (path: string) => `${zk.chroot}/t${path}`;
    await agent.send('mutex.acquire', at('/locks/m'), 10_000);
    await agent.send('rwlock.read.acquire', at('/locks/rw'), 10_000, 'reader');
    await agent.send('semaphore.acquire', at('/limits/api'), 2, 10_000);
    await agent.send('latch.start', at('/election/latch'), 'java-1');
    await agent.next('isLeader', { where: (e) => e.participant === 'java-1' });
    await agent.send('queue.put', at('/q/jobs'), 'job-0');
    await agent.send('discovery.register', at('/services'), 'api', 'java-1', '10.0.0.1', 8081);

    const view = await json<{ counts: Node; recipes: Node[] }>(zk.connectString, [
      'top',
      '/t',
      '--once',
    ]);
    expect(view.counts).toEqual({ locks: 3, elections: 1, queues: 1, barriers: 0, services: 1 });
    const first = (list: unknown) => (list as Node[] | undefined)?.[0];
    expect(
      view.recipes.map((r) => {
        const party = first(r.nodes ?? r.leases ?? r.participants);
        return [
          r.recipe,
          r.path,
          r.kind ?? null,
          party?.sessionId ?? null,
          party?.data ?? party?.id ?? null,
        ];
      }),
    ).toEqual([
      ['election', '/t/election/latch', null, agent.sessionId, 'java-1'],
      ['lock', '/t/limits/api', 'semaphore', agent.sessionId, address],
      ['lock', '/t/locks/m', 'mutex', agent.sessionId, address],
      ['lock', '/t/locks/rw', 'readWrite', agent.sessionId, address],
      ['queue', '/t/q/jobs', null, null, null],
      ['services', '/t/services', null, null, null],
    ]);
    expect(view.recipes[4]).toMatchObject({ depth: 1, claimed: [] });
    expect((view.recipes[5]?.services as { instances: Node[] }[])[0]?.instances).toMatchObject([
      { id: 'java-1', address: '10.0.0.1', port: 8081 },
    ]);

    await agent.send('discovery.unregister', at('/services'), 'api', 'java-1');
    await agent.send('latch.close', at('/election/latch'), 'java-1');
    await agent.send('semaphore.release', at('/limits/api'));
    await agent.send('rwlock.read.release', at('/locks/rw'), 'reader');
    await agent.send('mutex.release', at('/locks/m'));
  });
});
