import { execFile, spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OpMessage, ZkClient } from '@zkit/core';
import { LeaderLatch } from '@zkit/election';
import { Mutex, ReadWriteLock, Semaphore } from '@zkit/lock';
import { Queue } from '@zkit/queue';
import { ServiceRegistry } from '@zkit/registry';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { main } from '../src/index.js';

// The built binary, run as an operator would. The fixture's connect string carries the test's
// chroot, so paths below are the recipes' own.
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function zkit(args: readonly string[], env: Record<string, string>): Promise<Run> {
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

/**
 * Under `/app`: a lock with a holder and a waiter, a read-write lock read by one and waited for
 * by a writer, a semaphore with a lease taken, a latch election of two, a queue of three items
 * one of which a consumer has claimed, a registered service, and a node that is none of these.
 * Resolves what the test needs to name them, and a function that stops it all.
 */
async function scene(clients: readonly [ZkClient, ZkClient, ZkClient]) {
  const [a, b, c] = clients;
  const lease = await new Mutex(a, '/app/locks/job', { data: 'worker-a' }).acquire();
  const waiting = new Mutex(b, '/app/locks/job', { data: 'worker-b' }).acquire();
  await waitFor(async () => (await c.getChildren('/app/locks/job')).length === 2);
  const read = await new ReadWriteLock(a, '/app/catalog', { data: 'reader-a' }).readLock.acquire();
  const writing = new ReadWriteLock(b, '/app/catalog', { data: 'writer-b' }).writeLock.acquire();
  await waitFor(async () => (await c.getChildren('/app/catalog')).length === 2);
  const permit = await new Semaphore(c, '/app/limits', 2, { data: 'caller-c' }).acquire();
  const latches = [new LeaderLatch(a, '/app/election', { id: 'replica-1' })];
  await latches[0]?.start();
  latches.push(new LeaderLatch(b, '/app/election', { id: 'replica-2' }));
  await latches[1]?.start();
  const queue = new Queue<string>(c, '/app/jobs');
  for (const job of ['job-1', 'job-2', 'job-3']) await queue.put(job);
  const stopConsuming = new AbortController();
  const consumer = new Queue<string>(b, '/app/jobs');
  const consuming = consumer.consume({ signal: stopConsuming.signal })[Symbol.asyncIterator]();
  const claimed = await consuming.next();
  expect(claimed.value?.value).toBe('job-1');
  const registry = new ServiceRegistry(c, { basePath: '/app/services' });
  await registry.register({ name: 'api', id: 'api-1', address: '10.0.0.5', port: 8080 });
  await c.create('/app/config', 'mode=fast');
  return {
    lease,
    read,
    permit,
    async stop() {
      await Promise.all([lease.release(), read.release(), permit.release()]);
      await Promise.all([(await waiting).release(), (await writing).release()]);
      stopConsuming.abort();
      await consuming.return?.();
      await Promise.all([...latches.map((l) => l.close()), registry.close()]);
    },
  };
}

const AGE = /^\d+s$/;
/** A holder's token in a table: known exactly, or as bounds from it. */
const tokenOf = (token: bigint) => new RegExp(`^token ${token}(\\.\\.\\d+)?$`);

describe('zkit top', () => {
  test('top - --once prints every recipe under a path, as text and as JSON', async ({ zk }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const env = { ZOOKEEPER_CONNECT: zk.connectString };
    expect((await zkit(['--help'], {})).stdout).toMatch(
      /\n {2}top {2,}a live view of every recipe/,
    );
    expect((await zkit(['top', '--help'], {})).stdout).toMatch(/^Usage: zkit top PATH \[--once\]/);
    const app = await scene([a, b, c]);

    const text = await zkit(['top', '/app', '--once'], env);
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^zkit top \/app {2}\S+ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The queue's claims node looks like a queue too; the queue's own inspection names it.
    expect(lines[1]).toBe('6 recipes: 3 locks, 1 election, 1 queue, 1 service base');
    const sections = text.stdout
      .trimEnd()
      .split('\n\n')
      .slice(1)
      .map((s) => s.split('\n').map((l, i) => (i === 0 ? l : l.trim().split(/ {2,}/))));
    expect(sections).toEqual([
      [
        expect.stringMatching(
          /^lock \/app\/catalog: read-write, read-locked by 1 reader, 1 waiting$/,
        ),
        [
          'holder',
          'read',
          'reader-a',
          a.sessionId,
          expect.stringMatching(AGE),
          expect.stringMatching(tokenOf(app.read.fencingToken)),
        ],
        ['waiter', 'write', 'writer-b', b.sessionId, expect.stringMatching(AGE), '-'],
      ],
      [
        'election /app/election: leader replica-1, 1 follower',
        ['leader', 'replica-1', a.sessionId, expect.stringMatching(AGE)],
        ['follower', 'replica-2', b.sessionId, expect.stringMatching(AGE)],
      ],
      [
        expect.stringMatching(
          /^queue \/app\/jobs: 3 items, oldest \d+s \(queue-0000000000\), 1 claimed$/,
        ),
        ['claimed', 'queue-0000000000', b.sessionId, expect.stringMatching(AGE)],
      ],
      [
        // The semaphore's own queue of acquirers (`locks`) is not a lock of its own.
        'lock /app/limits: semaphore, 1 in use, 0 waiting',
        [
          'lease',
          'caller-c',
          c.sessionId,
          expect.stringMatching(AGE),
          expect.stringMatching(tokenOf(app.permit.fencingToken)),
        ],
      ],
      [
        expect.stringMatching(
          new RegExp(
            `^lock /app/locks/job: held, 1 waiter, fencing token ${app.lease.fencingToken}\\.\\.\\d+$`,
          ),
        ),
        ['holder', 'worker-a', a.sessionId, expect.stringMatching(AGE)],
        ['waiter', 'worker-b', b.sessionId, expect.stringMatching(AGE)],
      ],
      [
        'services /app/services: 1 service, 1 instance',
        ['api', 'api-1', '10.0.0.5:8080', expect.stringMatching(AGE)],
      ],
    ]);

    const json = await zkit(['top', '/app', '--once', '--json'], env);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { recipes: Record<string, unknown>[] };
    const party = (sessionId: string | undefined, extra: Record<string, unknown> = {}) => ({
      ...extra,
      name: expect.any(String),
      sessionId,
      created: expect.any(String),
      ageMs: expect.any(Number),
    });
    expect(doc).toEqual({
      time: expect.any(String),
      server: zk.connectString,
      path: '/app',
      exists: true,
      counts: { locks: 3, elections: 1, queues: 1, barriers: 0, services: 1 },
      recipes: [
        {
          recipe: 'lock',
          path: '/app/catalog',
          kind: 'readWrite',
          held: true,
          nodes: [
            {
              ...party(a.sessionId, { role: 'holder', mode: 'read' }),
              data: 'reader-a',
              fencingToken: { min: String(app.read.fencingToken), max: expect.any(String) },
            },
            {
              ...party(b.sessionId, { role: 'waiter', mode: 'write' }),
              data: 'writer-b',
              fencingToken: null,
            },
          ],
        },
        {
          recipe: 'election',
          path: '/app/election',
          layout: 'latch',
          participants: [
            party(a.sessionId, { id: 'replica-1', leader: true }),
            party(b.sessionId, { id: 'replica-2', leader: false }),
          ],
        },
        {
          recipe: 'queue',
          path: '/app/jobs',
          lockPath: '/app/jobs-locks',
          depth: 3,
          oldest: {
            name: 'queue-0000000000',
            created: expect.any(String),
            ageMs: expect.any(Number),
          },
          claimed: [party(b.sessionId)],
        },
        {
          recipe: 'lock',
          path: '/app/limits',
          kind: 'semaphore',
          permits: null,
          inUse: 1,
          leases: [
            {
              ...party(c.sessionId, { data: 'caller-c' }),
              fencingToken: { min: String(app.permit.fencingToken), max: expect.any(String) },
            },
          ],
          waiters: [],
        },
        {
          recipe: 'lock',
          path: '/app/locks/job',
          kind: 'mutex',
          held: true,
          fencingToken: { min: String(app.lease.fencingToken), max: expect.any(String) },
          nodes: [
            party(a.sessionId, { role: 'holder', data: 'worker-a' }),
            party(b.sessionId, { role: 'waiter', data: 'worker-b' }),
          ],
        },
        {
          recipe: 'services',
          path: '/app/services',
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
                  registered: expect.any(String),
                  ageMs: expect.any(Number),
                  payload: null,
                },
              ],
            },
          ],
          malformed: [],
        },
      ],
    });

    // Each recipe reads as its own command's --json prints it, with its kind first.
    const [, election, , , lock] = doc.recipes as { participants?: object[]; nodes?: object[] }[];
    expect(Object.keys(lock?.nodes?.[0] ?? {})).toEqual([
      'role',
      'sessionId',
      'data',
      'created',
      'ageMs',
      'name',
    ]);
    expect(Object.keys(election?.participants?.[0] ?? {})).toEqual([
      'id',
      'leader',
      'sessionId',
      'created',
      'ageMs',
      'name',
    ]);

    // A path without recipes, and one that does not exist.
    const plain = await zkit(['top', '/app/config', '--once'], env);
    expect(plain.stdout.split('\n').slice(1)).toEqual(['no recipes found', '']);
    expect(await zkit(['top', '/nowhere', '--once'], env)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'zkit: /nowhere does not exist\n',
    });
    const missing = await zkit(['top', '/nowhere', '--once', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      path: '/nowhere',
      exists: false,
      recipes: [],
    });
    expect((await zkit(['lock', '/app', '--once'], env)).stderr).toBe(
      'zkit: --once is an option of zkit top\n',
    );
    await app.stop();
  });

  test('top - not on a terminal: one snapshot (or JSON line) per change, until SIGINT', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    await a.ensurePath('/app/locks/job');
    const child = spawn(process.execPath, [BIN, 'top', '/app', '--json'], {
      env: { PATH: process.env.PATH ?? '', ZOOKEEPER_CONNECT: zk.connectString },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const textChild = spawn(process.execPath, [BIN, 'top', '/app'], {
      env: { PATH: process.env.PATH ?? '', ZOOKEEPER_CONNECT: zk.connectString },
    });
    let text = '';
    textChild.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const textExited = new Promise<number | null>((resolve) => textChild.on('close', resolve));
    const views = () =>
      stdout
        .split('\n')
        .filter((l) => l !== '')
        .map(
          (l) =>
            JSON.parse(l) as {
              counts: { locks: number };
              recipes: { nodes?: { sessionId: string }[] }[];
            },
        );
    await waitFor(() => views().length === 1);
    expect(views()[0]).toMatchObject({ path: '/app', exists: true, recipes: [] });

    const lease = await new Mutex(a, '/app/locks/job').acquire();
    const waiting = new Mutex(b, '/app/locks/job').acquire();
    const holders = () => views().map((v) => v.recipes[0]?.nodes?.map((n) => n.sessionId) ?? []);
    await waitFor(() => holders().at(-1)?.length === 2, { message: 'the holder and the waiter' });
    expect(holders().at(-1)).toEqual([a.sessionId, b.sessionId]);
    await waitFor(() => text.includes('lock /app/locks/job: held, 1 waiter'), {
      message: 'the text snapshot with the holder and the waiter',
    });
    await lease.release();
    await waitFor(() => holders().at(-1)?.[0] === b.sessionId, { message: 'the hand-over' });
    await (await waiting).release();
    // The free lock has no nodes left to recognise it by: it leaves the view.
    await waitFor(() => views().at(-1)?.counts.locks === 0, { message: 'the lock to go' });
    // Snapshots come only when something changed: never the same view twice in a row (the time
    // and the ages aside).
    const shown = stdout
      .trimEnd()
      .split('\n')
      .map((l) =>
        JSON.stringify(JSON.parse(l), (k, v: unknown) => (k === 'time' || k === 'ageMs' ? 0 : v)),
      );
    expect(shown.filter((s, i) => i > 0 && s === shown[i - 1])).toEqual([]);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Text: whole snapshots, each after a blank line but the first.
    await waitFor(() => text.trimEnd().endsWith('no recipes found'), { message: 'the text view' });
    textChild.kill('SIGINT');
    expect(await textExited).toBe(0);
    const snapshots = text.trimEnd().split('\n\n');
    const headers = snapshots.filter((p) => p.startsWith('zkit top /app  '));
    expect(headers.length).toBeGreaterThanOrEqual(3);
    expect(text.match(/^zkit top /gm)).toHaveLength(headers.length);
  });

  test('top - on a terminal: redrawn in place after a change; q quits with 0 and restores the screen', async ({
    zk,
  }) => {
    const a = await zk.client();
    await a.ensurePath('/app');
    const socket = `zkit-top-${process.pid}-${Date.now()}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
    const command =
      `ZOOKEEPER_CONNECT='${zk.connectString}' '${process.execPath}' '${BIN}' top /app; ` +
      `echo "zkit exited with $?"; read line`;
    await tmux('new-session', '-d', '-x', '120', '-y', '40', command);
    const screen = async () => (await tmux('capture-pane', '-p')).stdout;
    try {
      await waitFor(async () => (await screen()).includes('no recipes found'), {
        message: 'the first view',
        // Each check runs tmux once: a slower pace than waitFor's default is plenty.
        interval: 100,
        timeout: 20_000,
      });
      const first = (await screen()).split('\n');
      expect(first[0]).toMatch(/^zkit top \/app {2}\S+ {2}\d{4}-/);
      expect(first[1]).toBe('(q to quit)');

      const lease = await new Mutex(a, '/app/locks/job', { data: 'on-screen' }).acquire();
      const held = await waitFor(
        async () => {
          const now = await screen();
          return now.includes('lock /app/locks/job: held') ? now : undefined;
        },
        { message: 'the lock on screen', interval: 100 },
      );
      const lines = held.split('\n');
      // In place: the header is still the first line, and the view is drawn once.
      expect(lines[0]).toMatch(/^zkit top \/app /);
      expect(lines.filter((l) => l.startsWith('zkit top'))).toHaveLength(1);
      expect(lines).toContain('1 recipe: 1 lock');
      expect(
        lines
          .find((l) => l.includes('holder'))
          ?.trim()
          .split(/ {2,}/),
      ).toEqual(['holder', 'on-screen', a.sessionId, expect.stringMatching(AGE)]);
      await lease.release();

      await tmux('send-keys', 'q');
      const after = await waitFor(
        async () => {
          const now = await screen();
          return now.includes('zkit exited with') ? now : undefined;
        },
        { message: 'zkit to exit', interval: 100 },
      );
      expect(after).toContain('zkit exited with 0');
      // The alternate screen is gone: the shell's own screen shows no trace of the view.
      expect(after).not.toContain('zkit top /app');
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
  });

  test('top - a change reads again only the recipe it touched, and a burst is read once', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const leases = await Promise.all(
      ['/app/x', '/app/y'].map((path) => new Mutex(a, path, { data: path }).acquire()),
    );
    // Every request of the command's own client, from the test's process.
    const ops: { op: string; path: string }[] = [];
    const record = (message: unknown) => {
      const { client, op, path } = message as OpMessage;
      if (client !== a && client !== b) ops.push({ op, path });
    };
    diagnostics.subscribe('zkit:op', record);
    const stop = new AbortController();
    let out = '';
    const running = main(['top', '/app', '--json'], {
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (out += text) },
      env: { ZOOKEEPER_CONNECT: zk.connectString },
      signal: stop.signal,
    });
    try {
      const views = () =>
        out
          .trimEnd()
          .split('\n')
          .filter((l) => l !== '')
          .map(
            (l) =>
              JSON.parse(l) as { recipes: { path: string; nodes?: unknown[]; depth?: number }[] },
          );
      const recipe = (path: string) =>
        views()
          .at(-1)
          ?.recipes.find((r) => r.path === path);
      await waitFor(() => recipe('/app/y') !== undefined, { message: 'both locks' });

      ops.length = 0;
      const waiting = new Mutex(b, '/app/x').acquire();
      await waitFor(() => recipe('/app/x')?.nodes?.length === 2, { message: 'the waiter' });
      expect(ops.filter((o) => o.path.startsWith('/app/x')).length).toBeGreaterThan(0);
      expect(ops.filter((o) => o.path.startsWith('/app/y'))).toEqual([]);

      // Twenty items in one transaction: twenty events, one read of the queue (a few at most, if
      // the cache applies them in several batches; without coalescing it is one per event).
      ops.length = 0;
      const shown = views().length;
      const burst = a.transaction();
      for (let i = 0; i < 20; i++)
        burst.create('/app/q/queue-', '', { mode: 'persistentSequential' });
      await a.ensurePath('/app/q');
      await burst.commit();
      await waitFor(() => recipe('/app/q')?.depth === 20, { message: 'the queue' });
      const reads = ops.filter((o) => o.op === 'getChildren' && o.path === '/app/q-locks');
      expect(reads.length).toBeGreaterThanOrEqual(1);
      expect(reads.length).toBeLessThanOrEqual(3);
      expect(views().length - shown).toBeLessThanOrEqual(3);
      expect(ops.filter((o) => o.path.startsWith('/app/x') || o.path.startsWith('/app/y'))).toEqual(
        [],
      );
      await Promise.all(leases.map((l) => l.release()));
      await (await waiting).release();
    } finally {
      stop.abort();
      expect(await running).toBe(0);
      diagnostics.unsubscribe('zkit:op', record);
    }
  });
});
