import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Barrier, DoubleBarrier } from '@zkit/barrier';
import { LeaderLatch } from '@zkit/election';
import { Mutex, ReadWriteLock, Semaphore } from '@zkit/lock';
import { Queue } from '@zkit/queue';
import { ServiceRegistry } from '@zkit/registry';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { main } from '../src/index.js';

// The built binary, run as an operator would: a child process, the server from the environment
// or --server. The fixture's connect string carries the test's chroot, so paths below are the
// recipes' own.
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function zkit(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const SESSION = /^[0-9a-f]+$/;

describe('zkit', () => {
  test('cli - help, usage errors, bad paths, no server and a down server', async () => {
    const help = await zkit(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: zkit COMMAND PATH/);
    for (const command of [
      'lock',
      'leader',
      'queue',
      'services',
      'barrier',
      'get',
      'stat',
      'tree',
      'watch',
    ]) {
      expect(help.stdout).toContain(`\n  ${command} `);
    }
    const lockHelp = await zkit(['lock', '--help']);
    expect(lockHelp.code).toBe(0);
    expect(lockHelp.stdout).toMatch(
      /^Usage: zkit lock PATH \[--kind mutex\|rw\|semaphore\] \[--permits N \| --count-path PATH\] \[options\]\n\nlock: .*\n\nThe kind is told from the lock's children/,
    );

    const cases: [string[], Record<string, string>, RegExp][] = [
      [[], {}, /^Usage: zkit/],
      [['frobnicate', '/x'], {}, /^zkit: unknown command 'frobnicate' \(see zkit --help\)\n$/],
      [
        ['lock'],
        {},
        /^zkit: missing PATH: zkit lock PATH \[--kind mutex\|rw\|semaphore\] \[--permits N \| --count-path PATH\]\n$/,
      ],
      [
        ['lock', '/a', '/b'],
        {},
        /^zkit: unexpected argument '\/b': zkit lock PATH \[--kind mutex\|rw\|semaphore\] \[--permits N \| --count-path PATH\]\n$/,
      ],
      [['lock', '/x', '--colour'], {}, /^zkit: Unknown option '--colour'.*\(see zkit --help\)\n$/],
      [['lock', 'no-slash', '--server', 'h:1'], {}, /^zkit: bad path 'no-slash': .*\n$/],
      [['lock', '/x', '--timeout', 'soon', '--server', 'h:1'], {}, /^zkit: --timeout must be/],
      [
        ['lock', '/x', '--peek', '2'],
        {},
        /^zkit: --peek and --lock-path are options of zkit queue\n$/,
      ],
      [
        ['leader', '/x', '--kind', 'rw'],
        {},
        /^zkit: --kind, --permits and --count-path are options of zkit lock\n$/,
      ],
      [
        ['lock', '/x', '--kind', 'latch'],
        {},
        /^zkit: --kind must be mutex, rw or semaphore, not 'latch'\n$/,
      ],
      [['lock', '/x', '--permits', '0'], {}, /^zkit: --permits must be a number ≥ 1, not '0'\n$/],
      [['lock', '/x', '--count-path', 'count'], {}, /^zkit: bad path 'count': .*\n$/],
      [
        ['queue', '/x', '--peek', 'many'],
        {},
        /^zkit: --peek must be a number of items, not 'many'\n$/,
      ],
      [['lock', '/x'], {}, /^zkit: no server: pass --server HOST:PORT or set ZOOKEEPER_CONNECT\n$/],
      [
        ['lock', '/x'],
        { ZK_CONNECT: '127.0.0.1:2181' },
        /^zkit: no server: pass --server HOST:PORT or set ZOOKEEPER_CONNECT \(ZK_CONNECT is set, but zkit reads ZOOKEEPER_CONNECT\)\n$/,
      ],
    ];
    for (const [args, env, stderr] of cases) {
      const run = await zkit(args, env);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toMatch(stderr);
    }

    // A closed port: nothing listens on a port the kernel just handed out and took back.
    const port = await closedPort();
    const down = await zkit(['lock', '/x', '--timeout', '1000'], {
      ZOOKEEPER_CONNECT: `127.0.0.1:${port}`,
    });
    expect(down).toEqual({
      code: 2,
      stdout: '',
      stderr: `zkit: cannot connect to 127.0.0.1:${port} within 1000 ms\n`,
    });
  });

  test('cli - lock: holder and waiters, as a table and as JSON', async ({ zk }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    const lease = await new Mutex(a, '/locks/invoice-42', { data: 'worker-a' }).acquire();
    const waiting = new Mutex(b, '/locks/invoice-42', { data: 'worker-b' }).acquire();
    await waitFor(async () => (await c.getChildren('/locks/invoice-42')).length === 2);

    const table = await zkit(['lock', '/locks/invoice-42'], env);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^/locks/invoice-42: held, fencing token ${lease.fencingToken}\\.\\.\\d+ \\(`),
    );
    expect(lines.slice(1).map((l) => l.split('\t').slice(0, 3))).toEqual([
      ['ROLE', 'SESSION', 'DATA'],
      ['holder', a.sessionId, 'worker-a'],
      ['waiter', b.sessionId, 'worker-b'],
    ]);
    expect(lines[2]?.split('\t')[3]).toMatch(/^\d+s$/);

    const json = await zkit(['lock', '/locks/invoice-42', '--json', '--server', zk.connectString]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      fencingToken: { min: string; max: string };
      nodes: Record<string, unknown>[];
    };
    expect(doc).toMatchObject({
      path: '/locks/invoice-42',
      kind: 'mutex',
      held: true,
      fencingToken: { min: String(lease.fencingToken) },
    });
    expect(BigInt(doc.fencingToken.max)).toBeGreaterThan(lease.fencingToken);
    expect(doc.nodes.map((n) => [n.role, n.sessionId, n.data])).toEqual([
      ['holder', a.sessionId, 'worker-a'],
      ['waiter', b.sessionId, 'worker-b'],
    ]);
    for (const n of doc.nodes) {
      expect(Object.keys(n)).toEqual(['role', 'sessionId', 'data', 'created', 'ageMs', 'name']);
      expect(n.sessionId).toMatch(SESSION);
      expect(Number.isInteger(n.ageMs)).toBe(true);
      expect(new Date(n.created as string).toISOString()).toBe(n.created);
    }

    await lease.release();
    await (await waiting).release();
    const free = await zkit(['lock', '/locks/invoice-42', '--json'], env);
    // The lock node may have been reaped as an empty container already: both answers are true.
    if (free.code === 0) {
      expect(JSON.parse(free.stdout)).toEqual({
        path: '/locks/invoice-42',
        kind: 'mutex',
        held: false,
        fencingToken: null,
        nodes: [],
      });
    } else {
      expect(free.code).toBe(1);
    }
    await c.ensurePath('/locks/idle');
    expect(await zkit(['lock', '/locks/idle'], env)).toEqual({
      code: 0,
      stdout: '/locks/idle: not held\n',
      stderr: '',
    });
    expect(await zkit(['lock', '/locks/missing'], env)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'zkit: /locks/missing does not exist\n',
    });
    const missing = await zkit(['lock', '/locks/missing', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({ path: '/locks/missing', found: false });
  });

  test('cli - lock: a read-write lock, detected or named by --kind, as a table and as JSON', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    const read = await new ReadWriteLock(a, '/locks/catalog', {
      data: 'reader-a',
    }).readLock.acquire();
    const writing = new ReadWriteLock(b, '/locks/catalog', {
      data: 'writer-b',
    }).writeLock.acquire();
    await waitFor(async () => (await c.getChildren('/locks/catalog')).length === 2);

    for (const args of [[], ['--kind', 'rw']]) {
      const table = await zkit(['lock', '/locks/catalog', ...args], env);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('/locks/catalog: read-write lock, read-locked by 1 reader, 1 waiting');
      expect(lines.slice(1).map((l) => l.split('\t').slice(0, 4))).toEqual([
        ['ROLE', 'MODE', 'SESSION', 'DATA'],
        ['holder', 'read', a.sessionId, 'reader-a'],
        ['waiter', 'write', b.sessionId, 'writer-b'],
      ]);
      expect(lines[2]?.split('\t')[5]).toMatch(new RegExp(`^${read.fencingToken}(\\.\\.\\d+)?$`));
      expect(lines[3]?.split('\t')[5]).toBe('-');
    }
    const json = await zkit(['lock', '/locks/catalog', '--json'], env);
    const doc = JSON.parse(json.stdout) as { nodes: Record<string, unknown>[] };
    expect(doc).toMatchObject({ path: '/locks/catalog', kind: 'readWrite', held: true });
    expect(doc.nodes.map((n) => [n.role, n.mode, n.sessionId, n.data])).toEqual([
      ['holder', 'read', a.sessionId, 'reader-a'],
      ['waiter', 'write', b.sessionId, 'writer-b'],
    ]);
    expect(Object.keys(doc.nodes[0] ?? {})).toEqual([
      'role',
      'mode',
      'sessionId',
      'data',
      'created',
      'ageMs',
      'name',
      'fencingToken',
    ]);
    expect(doc.nodes[0]?.fencingToken).toMatchObject({ min: String(read.fencingToken) });
    expect(doc.nodes[1]?.fencingToken).toBeNull();
    await read.release();
    await (await writing).release();
  });

  test('cli - lock: a semaphore: leases in use of the permits, waiters', async ({ zk }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    const lease = await new Semaphore(a, '/limits/api', 1, { data: 'worker-a' }).acquire();
    const waiting = new Semaphore(b, '/limits/api', 1, { data: 'worker-b' }).acquire();
    await waitFor(async () => (await c.getChildren('/limits/api/locks')).length === 1);

    const table = await zkit(['lock', '/limits/api', '--permits', '1'], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('/limits/api: semaphore, 1 of 1 leases in use, 1 waiting');
    expect(lines.slice(1).map((l) => l.split('\t').slice(0, 3))).toEqual([
      ['ROLE', 'SESSION', 'DATA'],
      ['lease', a.sessionId, 'worker-a'],
      ['waiter', b.sessionId, 'worker-b'],
    ]);
    expect(lines[2]?.split('\t')[4]).toMatch(new RegExp(`^${lease.fencingToken}(\\.\\.\\d+)?$`));

    const count = Buffer.alloc(4);
    count.writeInt32BE(3);
    await c.create('/limits/api-count', count);
    const json = await zkit(
      ['lock', '/limits/api', '--count-path', '/limits/api-count', '--json'],
      env,
    );
    const doc = JSON.parse(json.stdout) as {
      leases: Record<string, unknown>[];
      waiters: Record<string, unknown>[];
    };
    expect(doc).toMatchObject({ path: '/limits/api', kind: 'semaphore', permits: 3, inUse: 1 });
    expect(doc.leases.map((n) => [n.sessionId, n.data])).toEqual([[a.sessionId, 'worker-a']]);
    expect(Object.keys(doc.leases[0] ?? {})).toEqual([
      'sessionId',
      'data',
      'created',
      'ageMs',
      'name',
      'fencingToken',
    ]);
    expect(doc.waiters.map((n) => [n.sessionId, n.data])).toEqual([[b.sessionId, 'worker-b']]);
    const unknown = await zkit(['lock', '/limits/api', '--json'], env);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ permits: null, inUse: 1 });

    // Options for another kind, and a path that is no lock, are errors.
    expect(await zkit(['lock', '/limits/api', '--kind', 'mutex', '--permits', '2'], env)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'zkit: --permits and --count-path are for a semaphore; /limits/api is a mutex\n',
    });
    await c.ensurePath('/plain/child');
    expect(await zkit(['lock', '/plain'], env)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'zkit: /plain is not a lock: its children are neither mutex, read-write lock nor semaphore nodes\n',
    });
    await lease.release();
    await (await waiting).release();
  });

  test('cli - leader: leader and participants; an unknown layout is an error', async ({ zk }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    const first = new LeaderLatch(a, '/election/reports', { id: 'replica-1' });
    await first.start();
    const second = new LeaderLatch(b, '/election/reports', { id: 'replica-2' });
    await second.start();

    const table = await zkit(['leader', '/election/reports'], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('/election/reports: latch election, leader replica-1');
    expect(lines.slice(1).map((l) => l.split('\t').slice(0, 3))).toEqual([
      ['ROLE', 'ID', 'SESSION'],
      ['leader', 'replica-1', a.sessionId],
      ['follower', 'replica-2', b.sessionId],
    ]);

    const json = await zkit(['leader', '/election/reports', '--json'], env);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { participants: Record<string, unknown>[] };
    expect(doc).toMatchObject({ path: '/election/reports', layout: 'latch' });
    expect(doc.participants.map((p) => [p.id, p.leader, p.sessionId])).toEqual([
      ['replica-1', true, a.sessionId],
      ['replica-2', false, b.sessionId],
    ]);
    expect(Object.keys(doc.participants[0] ?? {})).toEqual([
      'id',
      'leader',
      'sessionId',
      'created',
      'ageMs',
      'name',
    ]);
    await Promise.all([first.close(), second.close()]);

    await c.create('/election/other', 'x');
    await c.create('/election/other/config', 'y');
    expect(await zkit(['leader', '/election/other'], env)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'zkit: /election/other is not an election: its children are neither latch nor selector nodes\n',
    });
    expect((await zkit(['leader', '/election/none'], env)).code).toBe(1);
  });

  test('cli - queue: depth, oldest item, claims, peeked and malformed items', async ({ zk }) => {
    const [producer, consumer] = await Promise.all([zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    const queue = new Queue<string>(producer, '/queues/jobs', { lockPath: '/queues/claims' });
    const first = (await queue.put('job-1')).slice('/queues/jobs/'.length);
    const bad = await producer.create('/queues/jobs/queue-', 'not framed', {
      mode: 'persistentSequential',
    });
    await queue.put('job-3');

    const controller = new AbortController();
    const messages = new Queue<string>(consumer, '/queues/jobs', {
      lockPath: '/queues/claims',
    }).consume({ signal: controller.signal });
    const consuming = messages[Symbol.asyncIterator]();
    const claim = await consuming.next();
    expect(claim.value?.value).toBe('job-1');

    const args = ['queue', '/queues/jobs', '--lock-path', '/queues/claims', '--peek', '2'];
    const table = await zkit(args, env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^/queues/jobs: 3 items, oldest \\d+s \\(${first}\\), 1 claimed in /queues/claims$`,
      ),
    );
    expect(lines.slice(1).map((l) => l.split('\t'))).toEqual([
      ['CLAIMED', 'SESSION', 'AGE'],
      [first, consumer.sessionId, expect.stringMatching(/^\d+s$/)],
      ['ITEM', 'AGE', 'VALUE'],
      // The CLI shows payloads as text: the queue's JSON serializer wrote a JSON string.
      [first, expect.stringMatching(/^\d+s$/), '"job-1"'],
      [
        bad.slice('/queues/jobs/'.length),
        expect.stringMatching(/^\d+s$/),
        'malformed: unknown version 0x6e6f7420',
      ],
    ]);

    const json = await zkit([...args, '--json'], env);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(doc).toEqual({
      path: '/queues/jobs',
      lockPath: '/queues/claims',
      depth: 3,
      oldest: { name: first, created: expect.any(String), ageMs: expect.any(Number) },
      claimed: [
        {
          name: first,
          sessionId: consumer.sessionId,
          created: expect.any(String),
          ageMs: expect.any(Number),
        },
      ],
      items: [
        {
          name: first,
          created: expect.any(String),
          ageMs: expect.any(Number),
          values: ['"job-1"'],
        },
        {
          name: bad.slice('/queues/jobs/'.length),
          created: expect.any(String),
          ageMs: expect.any(Number),
          malformed: 'unknown version 0x6e6f7420',
        },
      ],
    });
    await claim.value?.ack();
    controller.abort();
    await consuming.return?.();

    const plain = await zkit(['queue', '/queues/jobs'], env);
    expect(plain.stdout).toBe(
      `/queues/jobs: 2 items, oldest ${plain.stdout.match(/oldest (\d+s)/)?.[1]} (${bad.slice('/queues/jobs/'.length)}), 0 claimed in /queues/jobs-locks\n`,
    );
    expect((await zkit(['queue', '/queues/none'], env)).code).toBe(1);
  });

  test('cli - watch prints data and children changes until SIGINT, then exits 0', async ({
    zk,
  }) => {
    const c = await zk.client();
    const child = spawn(process.execPath, [BIN, 'watch', '/app', '--json'], {
      env: { PATH: process.env.PATH ?? '', ZOOKEEPER_CONNECT: zk.connectString },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const events = () =>
      stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const { time, ...rest } = JSON.parse(l) as { time: string };
          expect(new Date(time).toISOString()).toBe(time);
          return rest;
        });
    await waitFor(() => events().length === 1);
    expect(events()).toEqual([{ path: '/app', event: 'absent' }]);
    await c.create('/app', 'v0');
    await waitFor(() => events().length === 3);
    await c.create('/app/x', '');
    await waitFor(() => events().length === 4);
    await c.set('/app', 'v1');
    await waitFor(() => events().length === 5);
    const seen = events();
    // Data and children are watched independently: their first two events may come in any order.
    expect(seen.slice(1, 3)).toEqual(
      expect.arrayContaining([
        { path: '/app', event: 'data', version: 0, data: 'v0' },
        { path: '/app', event: 'children', children: [] },
      ]),
    );
    expect(seen.slice(3)).toEqual([
      { path: '/app', event: 'children', children: ['x'] },
      { path: '/app', event: 'data', version: 1, data: 'v1' },
    ]);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  test('cli - services: every service and instance, or one service', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    const ra = new ServiceRegistry(a, { basePath: '/services' });
    const rb = new ServiceRegistry(b, { basePath: '/services' });
    const api1 = await ra.register({
      name: 'api',
      id: 'api-1',
      address: '10.0.0.5',
      port: 8080,
      payload: { zone: 'a' },
      payloadClass: 'com.example.Details',
    });
    await rb.register({ name: 'api', id: 'api-2', address: '10.0.0.6', port: 8080 });
    await rb.register({ name: 'worker', id: 'w-1', address: '10.0.0.7', port: null });

    const table = await zkit(['services', '/services'], env);
    expect(table.code).toBe(0);
    expect(
      table.stdout
        .trimEnd()
        .split('\n')
        .map((l, i) => (i === 0 ? l : l.split('\t'))),
    ).toEqual([
      '/services: 2 services, 3 instances',
      ['SERVICE', 'ID', 'ADDRESS', 'PORT', 'AGE', 'PAYLOAD'],
      ['api', 'api-1', '10.0.0.5', '8080', expect.stringMatching(/^\d+s$/), '{"zone":"a"}'],
      ['api', 'api-2', '10.0.0.6', '8080', expect.stringMatching(/^\d+s$/), '-'],
      ['worker', 'w-1', '10.0.0.7', '-', expect.stringMatching(/^\d+s$/), '-'],
    ]);

    const json = await zkit(['services', '/services', 'api', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      basePath: '/services',
      services: [
        {
          name: 'api',
          instances: [
            {
              id: 'api-1',
              address: '10.0.0.5',
              port: 8080,
              sslPort: null,
              serviceType: 'DYNAMIC',
              registered: new Date(api1.instance.registrationTimeUTC).toISOString(),
              ageMs: expect.any(Number),
              payload: { zone: 'a' },
            },
            expect.objectContaining({ id: 'api-2', payload: null }),
          ],
        },
      ],
      malformed: [],
    });
    expect(await zkit(['services', '/services', 'billing'], env)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'zkit: /services service billing does not exist\n',
    });
    expect((await zkit(['services', '/nowhere'], env)).code).toBe(1);
    await Promise.all([ra.close(), rb.close()]);
  });

  test('cli - barrier: down, up, and who entered a double barrier', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    expect(await zkit(['barrier', '/deploy/gate'], env)).toEqual({
      code: 0,
      stdout: '/deploy/gate: down\n',
      stderr: '',
    });
    const gate = new Barrier(a, '/deploy/gate');
    await gate.raise();
    expect((await zkit(['barrier', '/deploy/gate'], env)).stdout).toBe('/deploy/gate: up\n');
    expect(JSON.parse((await zkit(['barrier', '/deploy/gate', '--json'], env)).stdout)).toEqual({
      path: '/deploy/gate',
      up: true,
      ready: false,
      members: [],
    });
    await gate.lower();

    const first = new DoubleBarrier(a, '/batch/round', { members: 2 });
    const entering = first.enter({ timeout: 30_000 });
    await waitFor(async () => ((await b.exists('/batch/round'))?.numChildren ?? 0) === 1);
    const name = first.nodePath.slice('/batch/round/'.length);
    const table = await zkit(['barrier', '/batch/round'], env);
    expect(
      table.stdout
        .trimEnd()
        .split('\n')
        .map((l, i) => (i === 0 ? l : l.split('\t'))),
    ).toEqual([
      '/batch/round: up, 1 entered',
      ['MEMBER', 'SESSION', 'AGE'],
      [name, a.sessionId, expect.stringMatching(/^\d+s$/)],
    ]);
    const second = new DoubleBarrier(b, '/batch/round', { members: 2 });
    await Promise.all([entering, second.enter({ timeout: 30_000 })]);
    const json = JSON.parse((await zkit(['barrier', '/batch/round', '--json'], env)).stdout) as {
      members: Record<string, unknown>[];
    };
    expect(json).toMatchObject({ path: '/batch/round', up: true, ready: true });
    expect(json.members.map((m) => m.sessionId)).toEqual([a.sessionId, b.sessionId]);
    expect(Object.keys(json.members[0] ?? {})).toEqual(['name', 'sessionId', 'created', 'ageMs']);
    expect((await zkit(['barrier', '/batch/round'], env)).stdout).toMatch(
      /^\/batch\/round: up, 2 entered, ready \(everybody came\)\n/,
    );
    await Promise.all([first.leave({ timeout: 30_000 }), second.leave({ timeout: 30_000 })]);
  });

  test('cli - on a terminal: aligned columns under a bold header (main, in process)', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const lease = await new Mutex(a, '/locks/tty', { data: 'a' }).acquire();
    const waiting = new Mutex(b, '/locks/tty', { data: 'longer-data' }).acquire();
    await waitFor(async () => (await a.getChildren('/locks/tty')).length === 2);
    let out = '';
    let err = '';
    const code = await main(['lock', '/locks/tty'], {
      stdout: { write: (text: string) => (out += text), isTTY: true },
      stderr: { write: (text: string) => (err += text) },
      env: { ZOOKEEPER_CONNECT: zk.connectString },
      now: () => Date.now(),
    });
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const lines = out.trimEnd().split('\n').slice(1);
    const header = lines[0] ?? '';
    expect(header.startsWith('\u001b[1m') && header.endsWith('\u001b[0m')).toBe(true);
    const titles = header.slice('\u001b[1m'.length, -'\u001b[0m'.length);
    expect(lines[1]).toMatch(new RegExp(`^holder  ${a.sessionId}  a {12}\\d+s +_c_`));
    expect(lines[2]).toMatch(new RegExp(`^waiter  ${b.sessionId}  longer-data  \\d+s +_c_`));
    // Every column starts where its title does.
    expect(titles.indexOf('DATA')).toBe(lines[2]?.indexOf('longer-data'));
    expect(titles.indexOf('NODE')).toBe(lines[2]?.indexOf('_c_'));
    expect(out).not.toContain('\t');
    await lease.release();
    await (await waiting).release();
  });

  test('cli - get, stat and tree', async ({ zk }) => {
    const c = await zk.client();
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    await c.ensurePath('/app/config');
    await c.set('/app/config', 'mode=fast');
    await c.ensurePath('/app/b/deep');

    expect(await zkit(['get', '/app/config'], env)).toEqual({
      code: 0,
      stdout: 'mode=fast\n',
      stderr: '',
    });
    const stat = await c.exists('/app/config');
    const got = JSON.parse((await zkit(['get', '/app/config', '--json'], env)).stdout) as {
      data: string;
      stat: Record<string, unknown>;
    };
    expect(got.data).toBe('mode=fast');
    expect(got.stat).toMatchObject({
      czxid: String(stat?.czxid),
      mzxid: String(stat?.mzxid),
      version: 1,
      dataLength: 9,
      numChildren: 0,
      ephemeralOwner: stat?.ephemeralOwner,
    });

    const statTable = await zkit(['stat', '/app'], env);
    expect(statTable.code).toBe(0);
    expect(statTable.stdout).toContain('\nnumChildren\t2\n');
    const statJson = JSON.parse((await zkit(['stat', '/app', '--json'], env)).stdout) as {
      stat: Record<string, unknown>;
    };
    expect(statJson.stat.numChildren).toBe(2);

    expect(await zkit(['tree', '/app'], env)).toEqual({
      code: 0,
      stdout: '/app\n  b\n    deep\n  config\n',
      stderr: '',
    });
    expect(JSON.parse((await zkit(['tree', '/app', '--json'], env)).stdout)).toEqual({
      path: '/app',
      nodes: ['/app', '/app/b', '/app/b/deep', '/app/config'],
    });
    for (const command of ['get', 'stat', 'tree']) {
      expect(await zkit([command, '/nope'], env)).toEqual({
        code: 1,
        stdout: '',
        stderr: 'zkit: /nope does not exist\n',
      });
    }
  });
});
