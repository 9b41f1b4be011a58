/**
 * Bad input, across every public API: each row hands one invalid argument to one call and
 * expects the exact typed error, raised before a single request leaves the client. After every
 * row the client must still work, and the test's chroot must hold exactly what it held before.
 *
 * "No request" is measured, not assumed: every request a `ZkClient` makes is published on the
 * `zkit:op` diagnostics channel, so the rows count the messages published between the call and
 * a probe request made right after it (replies on one session come back in order, so a request
 * sent by the call would be reported before the probe's). A `WatchConnection` speaks over a
 * socket of its own, so its rows check instead that it is still idle (never connected).
 */
import diagnostics from 'node:diagnostics_channel';
import { Barrier, DoubleBarrier } from '@zkit/barrier';
import {
  DataTooLargeError,
  InvalidArgumentError,
  InvalidPathError,
  PersistentNode,
  ZkClient,
  join,
  validateName,
  validatePath,
  validateTimeout,
  watchRecursive,
  WatchConnection,
  type OpMessage,
} from '@zkit/core';
import { LeaderLatch, LeaderSelector } from '@zkit/election';
import { GroupMember, Party, SetPartitioner } from '@zkit/group';
import { Mutex, ReadWriteLock, Semaphore } from '@zkit/lock';
import { Queue, QueueClosedError, bytesSerializer, stringSerializer } from '@zkit/queue';
import {
  NotRegisteredError,
  ServiceProvider,
  ServiceRegistry,
  buildUri,
  parseUriSpec,
  type ServiceInstance,
} from '@zkit/registry';
import { test } from '@zkit/testing/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';

// ---------------------------------------------------------------------------------------------
// The table

type ErrorClass = abstract new (...args: never[]) => Error;

/** One row: what is wrong, the call that receives it, and the error it must raise. */
interface Row {
  readonly input: string;
  readonly call: () => unknown;
  readonly error: ErrorClass;
  readonly code: string | undefined;
}

/** Rows of one API that share a subject (built by `setup`, whose requests are not counted). */
interface Group {
  readonly api: string;
  rows(client: ZkClient): Promise<{ rows: Row[]; teardown: () => Promise<void> }>;
}

interface Expected {
  readonly error: ErrorClass;
  readonly code: string | undefined;
}

const PATH: Expected = { error: InvalidPathError, code: 'INVALID_PATH' };
const ARG: Expected = { error: InvalidArgumentError, code: 'INVALID_ARGUMENT' };
const SIZE: Expected = { error: DataTooLargeError, code: 'DATA_TOO_LARGE' };
const CLOSED: Expected = { error: QueueClosedError, code: 'QUEUE_CLOSED' };
const NOT_REGISTERED: Expected = { error: NotRegisteredError, code: 'REGISTRY_NOT_REGISTERED' };

interface Case<S> {
  readonly input: string;
  readonly call: (subject: S, client: ZkClient) => unknown;
  readonly expected: Expected;
}

function group<S>(
  api: string,
  setup: (client: ZkClient) => S | Promise<S>,
  cases: readonly Case<NoInfer<S>>[],
  teardown: (subject: NoInfer<S>) => Promise<void> | void = () => undefined,
): Group {
  return {
    api,
    async rows(client) {
      const subject = await setup(client);
      return {
        rows: cases.map((c) => ({
          input: c.input,
          call: () => c.call(subject, client),
          error: c.expected.error,
          code: c.expected.code,
        })),
        teardown: async () => {
          await teardown(subject);
        },
      };
    },
  };
}

function row<S>(
  input: string,
  expected: Expected,
  call: (subject: S, client: ZkClient) => unknown,
): Case<S> {
  return { input, call, expected };
}

/** Paths that break ZooKeeper's rules, each with what is wrong with it. */
const BAD_PATHS: readonly (readonly [string, unknown])[] = [
  ['relative path', 'zkit/node'],
  ['trailing slash', '/zkit/node/'],
  ['empty segment (//)', '/zkit//node'],
  ['"." segment', '/zkit/./node'],
  ['".." segment', '/zkit/../node'],
  ['NUL character', '/zkit/no\u0000de'],
  ['control character', '/zkit/no\u0001de'],
  ['C1 control character', '/zkit/no\u0085de'],
  ['lone surrogate', '/zkit/no\ud800de'],
  ['private-use character', '/zkit/no\ue000de'],
  ['non-character U+FFFF', '/zkit/no\uffffde'],
  ['empty string', ''],
  ['number instead of a string', 42],
  ['undefined', undefined],
];

/** One row per bad path, for a call that takes a path. */
function badPaths<S>(call: (subject: S, path: string, client: ZkClient) => unknown): Case<S>[] {
  return BAD_PATHS.map(([input, path]) =>
    row<S>(input, PATH, (subject, client) => call(subject, path as string, client)),
  );
}

/** Timeouts that are not a whole number of milliseconds a timer can wait. */
const BAD_TIMEOUTS: readonly (readonly [string, unknown])[] = [
  ['negative timeout', -1],
  ['NaN timeout', Number.NaN],
  ['Infinity timeout', Number.POSITIVE_INFINITY],
  ['non-integer timeout', 1.5],
  ['timeout beyond a timer (2^31 ms)', 2 ** 31],
  ['string timeout', '1000'],
];

function badTimeouts<S>(call: (subject: S, timeout: number) => unknown): Case<S>[] {
  return BAD_TIMEOUTS.map(([input, timeout]) =>
    row<S>(input, ARG, (subject) => call(subject, timeout as number)),
  );
}

/** Numbers that are not positive integers (counts, permits, concurrency, members, …). */
const BAD_COUNTS: readonly (readonly [string, unknown])[] = [
  ['zero', 0],
  ['negative', -1],
  ['non-integer', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['string', '2'],
];

function badCounts<S>(name: string, call: (subject: S, n: number) => unknown): Case<S>[] {
  return BAD_COUNTS.map(([input, n]) =>
    row<S>(`${name}: ${input}`, ARG, (subject) => call(subject, n as number)),
  );
}

/** Bigger than a node may hold (the server's jute.maxbuffer is 1 MiB). */
const OVERSIZE = Buffer.alloc(1024 * 1024 + 1, 0x61);
const OVERSIZE_TEXT = OVERSIZE.toString('utf8');

/** Reads an async iterable's first value: generators only run (and validate) when pulled. */
function first(iterable: AsyncIterable<unknown>): Promise<unknown> {
  return iterable[Symbol.asyncIterator]().next();
}

const noop = async () => undefined;

/** An idle watch connection, and the connect string to make others with. */
interface WatchSubject {
  readonly target: string;
  readonly w: WatchConnection;
}

/**
 * Runs `call` on an idle watch connection and fails the row if the connection left `idle`: its
 * requests go over a connection of its own, not through the client's `zkit:op` channel.
 */
function idle(w: WatchConnection, call: () => unknown): unknown {
  const check = () => {
    if (w.state !== 'idle') throw new Error(`the watch connection went ${w.state}`);
  };
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    check();
    throw error;
  }
  check();
  return result;
}

// --- @zkit/core --------------------------------------------------------------------------------

const coreGroups: Group[] = [
  group('ZkClient constructor', () => 'localhost:2181', [
    row('connectString: empty', ARG, () => new ZkClient('')),
    row('connectString: blank', ARG, () => new ZkClient('   ')),
    row('connectString: number', ARG, () => new ZkClient(42 as unknown as string)),
    row('connectString: chroot with a trailing slash', PATH, (h) => new ZkClient(`${h}/app/`)),
    row('connectString: chroot with ".."', PATH, (h) => new ZkClient(`${h}/app/../x`)),
    row('connectString: chroot with NUL', PATH, (h) => new ZkClient(`${h}/a\u0000b`)),
    ...(['sessionTimeout', 'connectTimeout', 'maxDataBytes'] as const).flatMap((name) => [
      ...badCounts<string>(name, (h, n) => new ZkClient(h, { [name]: n })),
      row<string>(
        `${name}: beyond a timer (2^31)`,
        ARG,
        (h) => new ZkClient(h, { [name]: 2 ** 31 }),
      ),
    ]),
    row('errorPolicy: unknown', ARG, (h) => new ZkClient(h, { errorPolicy: 'never' as 'lost' })),
    ...badPaths<string>((h, p) => new ZkClient(h, { namespace: p })).filter(
      // An undefined namespace means "none".
      (c) => c.input !== 'undefined',
    ),
    row('retry.retries: negative', ARG, (h) => new ZkClient(h, { retry: { retries: -1 } })),
    row('retry.retries: NaN', ARG, (h) => new ZkClient(h, { retry: { retries: Number.NaN } })),
    row('retry.retries: non-integer', ARG, (h) => new ZkClient(h, { retry: { retries: 1.5 } })),
    row('retry.factor: string', ARG, (h) => new ZkClient(h, { retry: { factor: '2' as never } })),
    row('retry.minTimeout: negative', ARG, (h) => new ZkClient(h, { retry: { minTimeout: -5 } })),
    row(
      'retry.randomize: not a boolean',
      ARG,
      (h) => new ZkClient(h, { retry: { randomize: 'yes' as never } }),
    ),
    row(
      'auth: empty scheme',
      ARG,
      (h) => new ZkClient(h, { auth: [{ scheme: '', credentials: 'a:b' }] }),
    ),
    row(
      'auth: credentials not a string',
      ARG,
      (h) => new ZkClient(h, { auth: [{ scheme: 'digest', credentials: 7 as never }] }),
    ),
    row('defaultAcl: empty list', ARG, (h) => new ZkClient(h, { defaultAcl: [] })),
    row(
      'defaultAcl: perms out of range',
      ARG,
      (h) => new ZkClient(h, { defaultAcl: [{ perms: 32, scheme: 'world', id: 'anyone' }] }),
    ),
    row(
      'defaultAcl: scheme not a string',
      ARG,
      (h) => new ZkClient(h, { defaultAcl: [{ perms: 31, scheme: 1 as never, id: 'anyone' }] }),
    ),
    row(
      'session: id not a hex string',
      ARG,
      (h) => new ZkClient(h, { session: { id: 'not-hex', password: 'x' } }),
    ),
    row(
      'session: password not a string',
      ARG,
      (h) => new ZkClient(h, { session: { id: '1a', password: 5 as never } }),
    ),
  ]),

  group('ZkClient.start / updateServers / addAuth', (c: ZkClient) => c, [
    ...badTimeouts<ZkClient>((c, timeout) => c.start({ timeout })),
    row('updateServers: empty', ARG, (c) => c.updateServers('')),
    row('updateServers: number', ARG, (c) => c.updateServers(1 as never)),
    row('addAuth: empty scheme', ARG, (c) => c.addAuth('', 'a:b')),
    row('addAuth: credentials not a string', ARG, (c) => c.addAuth('digest', null as never)),
  ]),

  ...(
    [
      ['create', (c: ZkClient, p: string) => c.create(p, 'x')],
      ['createProtected (parent)', (c: ZkClient, p: string) => c.createProtected(p, 'n')],
      ['get', (c: ZkClient, p: string) => c.get(p)],
      ['exists', (c: ZkClient, p: string) => c.exists(p)],
      ['getChildren', (c: ZkClient, p: string) => c.getChildren(p)],
      ['set', (c: ZkClient, p: string) => c.set(p, 'x')],
      ['delete', (c: ZkClient, p: string) => c.delete(p)],
      ['deleteRecursive', (c: ZkClient, p: string) => c.deleteRecursive(p)],
      ['deleteGuaranteed', (c: ZkClient, p: string) => c.deleteGuaranteed(p)],
      ['ensurePath', (c: ZkClient, p: string) => c.ensurePath(p)],
      ['sync', (c: ZkClient, p: string) => c.sync(p)],
      ['getAcl', (c: ZkClient, p: string) => c.getAcl(p)],
      [
        'setAcl',
        (c: ZkClient, p: string) => c.setAcl(p, [{ perms: 31, scheme: 'world', id: 'anyone' }]),
      ],
      ['existsWatched', (c: ZkClient, p: string) => c.existsWatched(p)],
      ['getWatched', (c: ZkClient, p: string) => c.getWatched(p)],
      ['getChildrenWatched', (c: ZkClient, p: string) => c.getChildrenWatched(p)],
      ['watchOnce', (c: ZkClient, p: string) => c.watchOnce(p, 'deleted')],
      ['waitForDeletion', (c: ZkClient, p: string) => c.waitForDeletion(p)],
      ['watchData', (c: ZkClient, p: string) => first(c.watchData(p))],
      ['watchChildren', (c: ZkClient, p: string) => first(c.watchChildren(p))],
    ] as const
  ).map(([api, call]) =>
    group(`ZkClient.${api}: path`, (c: ZkClient) => c, badPaths<ZkClient>(call)),
  ),

  group('ZkClient.create: data, modes and options', (c: ZkClient) => c, [
    row('data: number', ARG, (c) => c.create('/n', 42 as never)),
    row('data: plain object', ARG, (c) => c.create('/n', { a: 1 } as never)),
    row('data: 1 MiB + 1 bytes', SIZE, (c) => c.create('/n', OVERSIZE)),
    row('data: 1 MiB + 1 characters', SIZE, (c) => c.create('/n', OVERSIZE_TEXT)),
    row('mode: unknown', ARG, (c) => c.create('/n', 'x', { mode: 'sticky' as never })),
    row('mode: number', ARG, (c) => c.create('/n', 'x', { mode: 1 as never })),
    row('mode: inherited name', ARG, (c) => c.create('/n', 'x', { mode: 'toString' as never })),
    row('ttl without a TTL mode', ARG, (c) => c.create('/n', 'x', { ttl: 1000 })),
    row('TTL mode without ttl', ARG, (c) => c.create('/n', 'x', { mode: 'persistentWithTtl' })),
    ...badCounts<ZkClient>('ttl', (c, ttl) =>
      c.create('/n', 'x', { mode: 'persistentWithTtl', ttl }),
    ),
    row('ttl of 2^31 ms (past the int32 the binding passes)', ARG, (c) =>
      c.create('/n', 'x', { mode: 'persistentSequentialWithTtl', ttl: 2 ** 31 }),
    ),
    row('parents: unknown', ARG, (c) => c.create('/a/n', 'x', { parents: 'yes' as never })),
    row('acl: empty list', ARG, (c) => c.create('/n', 'x', { acl: [] })),
    row('acl: perms 32', ARG, (c) =>
      c.create('/n', 'x', { acl: [{ perms: 32, scheme: 'world', id: 'anyone' }] }),
    ),
    row('acl: not an array', ARG, (c) => c.create('/n', 'x', { acl: 'open' as never })),
    row('the root', PATH, (c) => c.create('/', 'x')),
    row('/zookeeper', PATH, (c) => c.create('/zookeeper', 'x')),
    row('under /zookeeper', PATH, (c) => c.create('/zookeeper/mine', 'x')),
  ]),

  group('ZkClient.createProtected: name, data and mode', (c: ZkClient) => c, [
    row('name with a slash', PATH, (c) => c.createProtected('/p', 'a/b')),
    row('empty name', PATH, (c) => c.createProtected('/p', '')),
    row('name "."', PATH, (c) => c.createProtected('/p', '.')),
    row('name with NUL', PATH, (c) => c.createProtected('/p', 'a\u0000')),
    row('name: number', PATH, (c) => c.createProtected('/p', 7 as never)),
    row('data: 1 MiB + 1 bytes', SIZE, (c) => c.createProtected('/p', 'n', OVERSIZE)),
    row('mode: unknown', ARG, (c) => c.createProtected('/p', 'n', 'x', { mode: 'x' as never })),
    row('ttl on an ephemeral mode', ARG, (c) => c.createProtected('/p', 'n', 'x', { ttl: 5 })),
    row('under /zookeeper', PATH, (c) => c.createProtected('/zookeeper', 'n')),
  ]),

  group(
    'ZkClient.set / delete / setAcl / reads: versions, data, ACLs',
    async (c: ZkClient) => {
      await c.create('/existing', 'x');
      return c;
    },
    [
      row('set: data 1 MiB + 1 bytes', SIZE, (c) => c.set('/existing', OVERSIZE)),
      row('set: data undefined', ARG, (c) => c.set('/existing', undefined as never)),
      row('set: version -2', ARG, (c) => c.set('/existing', 'y', { version: -2 })),
      row('set: version 1.5', ARG, (c) => c.set('/existing', 'y', { version: 1.5 })),
      row('set: version NaN', ARG, (c) => c.set('/existing', 'y', { version: Number.NaN })),
      row('set: version 2^31', ARG, (c) => c.set('/existing', 'y', { version: 2 ** 31 })),
      row('delete: version -2', ARG, (c) => c.delete('/existing', { version: -2 })),
      row('delete: version string', ARG, (c) => c.delete('/existing', { version: '0' as never })),
      row('delete: the root', PATH, (c) => c.deleteRecursive('/')),
      row('setAcl: empty list', ARG, (c) => c.setAcl('/existing', [])),
      row('setAcl: perms -1', ARG, (c) =>
        c.setAcl('/existing', [{ perms: -1, scheme: 'world', id: 'anyone' }]),
      ),
      row('setAcl: id missing', ARG, (c) =>
        c.setAcl('/existing', [{ perms: 31, scheme: 'world' } as never]),
      ),
      row('setAcl: version 1.5', ARG, (c) =>
        c.setAcl('/existing', [{ perms: 31, scheme: 'world', id: 'anyone' }], { version: 1.5 }),
      ),
      row('watchOnce: unknown event type', ARG, (c) =>
        c.watchOnce('/existing', 'touched' as never),
      ),
      ...badTimeouts<ZkClient>((c, timeout) => c.watchOnce('/existing', 'deleted', { timeout })),
      ...badTimeouts<ZkClient>((c, timeout) => c.waitForDeletion('/existing', { timeout })),
      ...badTimeouts<ZkClient>((c, timeout) => c.whenConnected({ timeout })),
    ],
  ),

  group(
    'WatchConnection',
    (c: ZkClient): WatchSubject => ({
      target: c.connectString,
      w: new WatchConnection(c.connectString),
    }),
    [
      ...(
        [
          ['connectString: empty', ARG, ''],
          ['connectString: chroot with a trailing slash', PATH, '127.0.0.1:2181/app/'],
          ['connectString: port 65536', ARG, 'localhost:65536'],
          ['connectString: only commas', ARG, ',,'],
        ] as const
      ).map(([input, expected, target]) =>
        row<WatchSubject>(input, expected, () => new WatchConnection(target)),
      ),
      ...badPaths<WatchSubject>((s, p) => new WatchConnection(s.target, { namespace: p }))
        .filter((r) => r.input !== 'undefined')
        .map((r) => ({ ...r, input: `namespace: ${r.input}` })),
      ...badCounts<WatchSubject>(
        'sessionTimeout',
        (s, n) => new WatchConnection(s.target, { sessionTimeout: n }),
      ),
      row(
        'sessionTimeout: 2^31',
        ARG,
        (s) => new WatchConnection(s.target, { sessionTimeout: 2 ** 31 }),
      ),
      row(
        'auth: empty scheme',
        ARG,
        (s) => new WatchConnection(s.target, { auth: [{ scheme: '', credentials: 'a:b' }] }),
      ),
      row(
        'auth: credentials not a string',
        ARG,
        (s) =>
          new WatchConnection(s.target, { auth: [{ scheme: 'digest', credentials: 1 as never }] }),
      ),
      // The connection stays idle: a refused watch never connects.
      ...badPaths<WatchSubject>((s, p) => idle(s.w, () => s.w.addWatch(p))).map((r) => ({
        ...r,
        input: `addWatch: ${r.input}`,
      })),
      row('addWatch: unknown mode', ARG, (s) =>
        idle(s.w, () => s.w.addWatch('/n', 'oneShot' as never)),
      ),
      row('addWatch: inherited name as mode', ARG, (s) =>
        idle(s.w, () => s.w.addWatch('/n', 'toString' as never)),
      ),
      ...badTimeouts<WatchSubject>((s, timeout) =>
        idle(s.w, () => s.w.addWatch('/n', 'persistent', { timeout })),
      ).map((r) => ({ ...r, input: `addWatch: ${r.input}` })),
    ],
    (s) => s.w.close(),
  ),

  group('watchRecursive', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => watchRecursive(c, p, () => undefined)),
    row('listener: not a function', ARG, (c) => watchRecursive(c, '/n', 'log' as never)),
    row('client: undefined', ARG, () => watchRecursive(undefined as never, '/n', () => undefined)),
    row('client: plain object', ARG, () => watchRecursive({} as never, '/n', () => undefined)),
  ]),

  group('signal option: not an AbortSignal', (c: ZkClient) => c, [
    ...(
      [
        ['create', (c: ZkClient, signal: AbortSignal) => c.create('/n', 'x', { signal })],
        [
          'createProtected',
          (c: ZkClient, signal: AbortSignal) => c.createProtected('/p', 'n', 'x', { signal }),
        ],
        ['get', (c: ZkClient, signal: AbortSignal) => c.get('/', { signal })],
        ['exists', (c: ZkClient, signal: AbortSignal) => c.exists('/', { signal })],
        ['getChildren', (c: ZkClient, signal: AbortSignal) => c.getChildren('/', { signal })],
        ['set', (c: ZkClient, signal: AbortSignal) => c.set('/n', 'x', { signal })],
        ['delete', (c: ZkClient, signal: AbortSignal) => c.delete('/n', { signal })],
        ['ensurePath', (c: ZkClient, signal: AbortSignal) => c.ensurePath('/a/b', { signal })],
        ['existsWatched', (c: ZkClient, signal: AbortSignal) => c.existsWatched('/', { signal })],
        [
          'watchOnce',
          (c: ZkClient, signal: AbortSignal) => c.watchOnce('/', 'deleted', { signal }),
        ],
        ['watchData', (c: ZkClient, signal: AbortSignal) => first(c.watchData('/', { signal }))],
        ['whenConnected', (c: ZkClient, signal: AbortSignal) => c.whenConnected({ signal })],
        [
          'Mutex.acquire',
          (c: ZkClient, signal: AbortSignal) => new Mutex(c, '/m').acquire({ signal }),
        ],
        [
          'Mutex.tryAcquire',
          (c: ZkClient, signal: AbortSignal) => new Mutex(c, '/m').tryAcquire({ signal }),
        ],
        [
          'ReadWriteLock.readLock.tryAcquire',
          (c: ZkClient, signal: AbortSignal) =>
            new ReadWriteLock(c, '/rw').readLock.tryAcquire({ signal }),
        ],
        [
          'Semaphore.tryAcquire',
          (c: ZkClient, signal: AbortSignal) => new Semaphore(c, '/s', 1).tryAcquire({ signal }),
        ],
        [
          'LeaderSelector.run',
          (c: ZkClient, signal: AbortSignal) => new LeaderSelector(c, '/e').run(noop, { signal }),
        ],
        [
          'LeaderLatch.start',
          (c: ZkClient, signal: AbortSignal) => new LeaderLatch(c, '/e').start({ signal }),
        ],
        [
          'Barrier.wait',
          (c: ZkClient, signal: AbortSignal) => new Barrier(c, '/g').wait({ signal }),
        ],
        [
          'DoubleBarrier.enter',
          (c: ZkClient, signal: AbortSignal) =>
            new DoubleBarrier(c, '/d', { members: 2 }).enter({ signal }),
        ],
        ['Queue.take', (c: ZkClient, signal: AbortSignal) => new Queue(c, '/q').take({ signal })],
        [
          'ServiceRegistry.register',
          (c: ZkClient, signal: AbortSignal) => registry(c).register({ name: 'api' }, { signal }),
        ],
      ] as const
    ).flatMap(([api, call]) =>
      (
        [
          ['a string', 'abort'],
          ['a plain object', { aborted: false }],
        ] as const
      ).map(([input, signal]) =>
        row<ZkClient>(`${api}: ${input}`, ARG, (c) => call(c, signal as unknown as AbortSignal)),
      ),
    ),
  ]),

  group('path and timeout helpers', () => undefined, [
    ...badPaths<undefined>((_, p) => validatePath(p)),
    row('validateName: a slash', PATH, () => validateName('a/b')),
    row('validateName: ".."', PATH, () => validateName('..')),
    row('validateName: empty', PATH, () => validateName('')),
    ...badTimeouts<undefined>((_, t) => validateTimeout(t)),
  ]),
];

// --- @zkit/lock --------------------------------------------------------------------------------

// --- PersistentNode (@zkit/core) --------------------------------------------------------------

const persistentNodeGroups: Group[] = [
  group('PersistentNode constructor', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new PersistentNode(c, p)),
    row('the root', ARG, (c) => new PersistentNode(c, '/')),
    row(
      'mode: unknown',
      ARG,
      (c) => new PersistentNode(c, '/n', '', { mode: 'container' as never }),
    ),
    row(
      'persistentWithTtl without a ttl',
      ARG,
      (c) => new PersistentNode(c, '/n', '', { mode: 'persistentWithTtl' }),
    ),
    row('ttl on an ephemeral node', ARG, (c) => new PersistentNode(c, '/n', '', { ttl: 1000 })),
    row(
      'ttl: negative',
      ARG,
      (c) => new PersistentNode(c, '/n', '', { mode: 'persistentWithTtl', ttl: -1 }),
    ),
    row(
      'parents: unknown',
      ARG,
      (c) => new PersistentNode(c, '/n', '', { parents: 'ephemeral' as never }),
    ),
    row('data: number', ARG, (c) => new PersistentNode(c, '/n', 5 as never)),
    row('data of 1 MiB + 1 bytes', SIZE, (c) => new PersistentNode(c, '/n', OVERSIZE)),
  ]),
  group(
    'PersistentNode methods',
    (c: ZkClient) => new PersistentNode(c, '/n', 'x'),
    [
      row('setData: number', ARG, (n) => n.setData(5 as never)),
      row('setData: 1 MiB + 1 bytes', SIZE, (n) => n.setData(OVERSIZE)),
      ...badTimeouts<PersistentNode>((n, timeout) => n.whenCreated({ timeout })),
      ...badTimeouts<PersistentNode>((n, timeout) => n.setData('y', { timeout })),
    ],
    (n) => n.close(),
  ),
];

// --- @zkit/group -------------------------------------------------------------------------------

const groupGroups: Group[] = [
  group('GroupMember', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new GroupMember(c, p, 'a')),
    row('memberId with a slash', PATH, (c) => new GroupMember(c, '/g', 'a/b')),
    row('memberId ".."', PATH, (c) => new GroupMember(c, '/g', '..')),
    row('memberId: number', ARG, (c) => new GroupMember(c, '/g', 5 as never)),
    row('payload of 1 MiB + 1 bytes', SIZE, (c) => new GroupMember(c, '/g', 'a', OVERSIZE)),
    row('setPayload: 1 MiB + 1 bytes', SIZE, (c) =>
      new GroupMember(c, '/g', 'a').setPayload(OVERSIZE),
    ),
    ...badTimeouts<ZkClient>((c, timeout) => new GroupMember(c, '/g', 'a').start({ timeout })),
  ]),
  group('Party', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new Party(c, p, 'a')),
    row(
      'shallow identifier with a slash',
      PATH,
      (c) => new Party(c, '/p', 'a/b', { shallow: true }),
    ),
    row('identifier: number', ARG, (c) => new Party(c, '/p', 5 as never)),
    row('shallow: not a boolean', ARG, (c) => new Party(c, '/p', 'a', { shallow: 1 as never })),
    ...badTimeouts<ZkClient>((c, timeout) => new Party(c, '/p', 'a').join({ timeout })),
    ...badTimeouts<ZkClient>((c, timeout) => new Party(c, '/p', 'a').members({ timeout })),
  ]),
  group('SetPartitioner', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new SetPartitioner(c, p, ['a'])),
    row('items: not iterable', ARG, (c) => new SetPartitioner(c, '/s', 5 as never)),
    row('item: number', ARG, (c) => new SetPartitioner(c, '/s', [5 as never])),
    row('item with a slash', PATH, (c) => new SetPartitioner(c, '/s', ['a/b'])),
    row('item ".."', PATH, (c) => new SetPartitioner(c, '/s', ['..'])),
    row('identifier: empty', ARG, (c) => new SetPartitioner(c, '/s', ['a'], { identifier: '' })),
    row(
      'identifier with a slash',
      PATH,
      (c) => new SetPartitioner(c, '/s', ['a'], { identifier: 'x/y' }),
    ),
    row(
      'partition: not a function',
      ARG,
      (c) => new SetPartitioner(c, '/s', ['a'], { partition: 'kazoo' as never }),
    ),
    ...badTimeouts<ZkClient>(
      (c, timeout) => new SetPartitioner(c, '/s', ['a'], { timeBoundary: timeout }),
    ),
    ...badTimeouts<ZkClient>((c, timeout) =>
      new SetPartitioner(c, '/s', ['a']).whenAcquired({ timeout }),
    ),
  ]),
];

const lockGroups: Group[] = [
  group('Mutex constructor', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new Mutex(c, p)),
    row('the root', PATH, (c) => new Mutex(c, '/')),
    row('client: undefined', ARG, () => new Mutex(undefined as never, '/lock')),
    row('client: plain object', ARG, () => new Mutex({} as never, '/lock')),
    row('data: number', ARG, (c) => new Mutex(c, '/lock', { data: 5 as never })),
  ]),
  group('Mutex.acquire', (c: ZkClient) => new Mutex(c, '/lock'), [
    ...badTimeouts<Mutex>((m, timeout) => m.acquire({ timeout })),
    row('data: 1 MiB + 1 bytes', SIZE, (_, c) =>
      new Mutex(c, '/big', { data: OVERSIZE }).acquire(),
    ),
    row('data: 1 MiB + 1 bytes (tryAcquire)', SIZE, (_, c) =>
      new Mutex(c, '/big', { data: OVERSIZE }).tryAcquire(),
    ),
    row('under /zookeeper', PATH, (_, c) => new Mutex(c, '/zookeeper/lock').acquire()),
  ]),
  group('ReadWriteLock', (c: ZkClient) => new ReadWriteLock(c, '/rw'), [
    ...badPaths<ReadWriteLock>((rw, p) => new ReadWriteLock(rw.client, p)),
    row('the root', PATH, (rw) => new ReadWriteLock(rw.client, '/')),
    row('client: null', ARG, () => new ReadWriteLock(null as never, '/rw')),
    ...badTimeouts<ReadWriteLock>((rw, timeout) => rw.readLock.acquire({ timeout })),
    ...badTimeouts<ReadWriteLock>((rw, timeout) => rw.writeLock.acquire({ timeout })),
    row('data: 1 MiB + 1 bytes', SIZE, (rw) =>
      new ReadWriteLock(rw.client, '/big', { data: OVERSIZE }).writeLock.acquire(),
    ),
  ]),
  group('Semaphore', (c: ZkClient) => new Semaphore(c, '/sem', 2), [
    ...badPaths<Semaphore>((s, p) => new Semaphore(s.client, p, 2)),
    row('the root', PATH, (s) => new Semaphore(s.client, '/', 2)),
    ...badCounts<Semaphore>('permits', (s, n) => new Semaphore(s.client, '/sem', n)),
    row('permits: 2^53', ARG, (s) => new Semaphore(s.client, '/sem', 2 ** 53)),
    ...badTimeouts<Semaphore>((s, timeout) => s.acquire({ timeout })),
    row('data: 1 MiB + 1 bytes', SIZE, (s) =>
      new Semaphore(s.client, '/big', 1, { data: OVERSIZE }).acquire(),
    ),
  ]),
];

// --- @zkit/election ----------------------------------------------------------------------------

const electionGroups: Group[] = [
  group('LeaderLatch constructor', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new LeaderLatch(c, p)),
    row('the root', PATH, (c) => new LeaderLatch(c, '/')),
    row('client: undefined', ARG, () => new LeaderLatch(undefined as never, '/election')),
    row('client: plain object', ARG, () => new LeaderLatch({} as never, '/election')),
    row('id: number', ARG, (c) => new LeaderLatch(c, '/election', { id: 7 as never })),
    row(
      'id: longer than a node holds',
      SIZE,
      (c) => new LeaderLatch(c, '/election', { id: OVERSIZE_TEXT }),
    ),
  ]),
  group(
    'LeaderLatch methods',
    (c: ZkClient) => new LeaderLatch(c, '/election', { id: 'a' }),
    [
      ...badTimeouts<LeaderLatch>((l, timeout) => l.start({ timeout })),
      ...badTimeouts<LeaderLatch>((l, timeout) => l.awaitLeadership({ timeout })),
      row('close: unknown mode', ARG, (l) => l.close({ mode: 'loudly' as never })),
    ],
    (l) => l.close(),
  ),
  group('LeaderSelector constructor', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new LeaderSelector(c, p)),
    row('the root', PATH, (c) => new LeaderSelector(c, '/')),
    row('client: undefined', ARG, () => new LeaderSelector(undefined as never, '/election')),
    row('id: number', ARG, (c) => new LeaderSelector(c, '/election', { id: 7 as never })),
    row(
      'id: longer than a node holds',
      SIZE,
      (c) => new LeaderSelector(c, '/election', { id: OVERSIZE_TEXT }),
    ),
    row(
      'autoRequeue: string',
      ARG,
      (c) => new LeaderSelector(c, '/election', { autoRequeue: 'yes' as never }),
    ),
  ]),
  group(
    'LeaderSelector.run',
    (c: ZkClient) => new LeaderSelector(c, '/election', { id: 'a' }),
    [
      row('leadership: not a function', ARG, (s) => s.run('lead' as never)),
      ...badTimeouts<LeaderSelector>((s, timeout) => s.run(noop, { timeout })),
    ],
    (s) => s.close(),
  ),
];

// --- @zkit/barrier -----------------------------------------------------------------------------

interface BarrierSubject {
  readonly client: ZkClient;
  readonly barrier: Barrier;
  readonly double: DoubleBarrier;
}

function barriers(client: ZkClient): BarrierSubject {
  return {
    client,
    barrier: new Barrier(client, '/gate'),
    double: new DoubleBarrier(client, '/double', { members: 2 }),
  };
}

const barrierGroups: Group[] = [
  group('Barrier', barriers, [
    ...badPaths<BarrierSubject>((s, p) => new Barrier(s.client, p)),
    row('the root', PATH, (s) => new Barrier(s.client, '/')),
    row('client: undefined', ARG, () => new Barrier(undefined as never, '/gate')),
    ...badTimeouts<BarrierSubject>((s, timeout) => s.barrier.wait({ timeout })),
    row('failOnSessionLoss: string', ARG, (s) =>
      s.barrier.wait({ failOnSessionLoss: 'false' as never }),
    ),
    row('under /zookeeper (raise)', PATH, (s) => new Barrier(s.client, '/zookeeper/g').raise()),
  ]),
  group('DoubleBarrier', barriers, [
    ...badPaths<BarrierSubject>((s, p) => new DoubleBarrier(s.client, p, { members: 2 })),
    row('the root', PATH, (s) => new DoubleBarrier(s.client, '/', { members: 2 })),
    row('options missing', ARG, (s) => new DoubleBarrier(s.client, '/d', undefined as never)),
    ...badCounts<BarrierSubject>(
      'members',
      (s, members) => new DoubleBarrier(s.client, '/d', { members }),
    ),
    ...badTimeouts<BarrierSubject>((s, timeout) => s.double.enter({ timeout })),
    ...badTimeouts<BarrierSubject>((s, timeout) => s.double.leave({ timeout })),
  ]),
];

// --- @zkit/queue -------------------------------------------------------------------------------

const queueGroups: Group[] = [
  group('Queue constructor', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new Queue(c, p)),
    ...badPaths<ZkClient>((c, p) => new Queue(c, '/q', { lockPath: p }))
      .filter(
        // An undefined lockPath means the default.
        (r) => r.input !== 'undefined',
      )
      .map((r) => ({ ...r, input: `lockPath: ${r.input}` })),
    row('the root', ARG, (c) => new Queue(c, '/')),
    row('client: undefined', ARG, () => new Queue(undefined as never, '/q')),
    row('lockPath inside the queue', ARG, (c) => new Queue(c, '/q', { lockPath: '/q/locks' })),
    row('lockPath equal to the queue', ARG, (c) => new Queue(c, '/q', { lockPath: '/q' })),
    ...badCounts<ZkClient>('maxItems', (c, maxItems) => new Queue(c, '/q', { maxItems })),
    row(
      'serializer without deserialize',
      ARG,
      (c) => new Queue(c, '/q', { serializer: { serialize: () => Buffer.alloc(0) } as never }),
    ),
    row(
      'onMalformed: not a function',
      ARG,
      (c) => new Queue(c, '/q', { onMalformed: 'log' as never }),
    ),
  ]),
  group('Queue.put / putMany', (c: ZkClient) => new Queue(c, '/q'), [
    row('item of 1 MiB + 1 bytes', SIZE, (_, c) =>
      new Queue(c, '/q', { serializer: bytesSerializer }).put(OVERSIZE),
    ),
    row('item of 1 MiB + 1 bytes, with maxItems', SIZE, (_, c) =>
      new Queue(c, '/q', { serializer: bytesSerializer, maxItems: 10 }).put(OVERSIZE),
    ),
    row('items of 1 MiB + 1 bytes together (putMany)', SIZE, (q) =>
      q.putMany(Array.from({ length: 64 }, () => 'x'.repeat(16 * 1024 + 1))),
    ),
    row('item without JSON form', ARG, (q) => q.put(undefined)),
    row('item the serializer refuses', ARG, (_, c) =>
      new Queue(c, '/q', { serializer: stringSerializer }).put(5 as never),
    ),
    row('putMany: empty list', ARG, (q) => q.putMany([])),
    row('putMany: not a list', ARG, (q) => q.putMany('abc' as never)),
    row('priority: 2^31', ARG, (q) => q.put(1, { priority: 2 ** 31 })),
    row('priority: below -2^31', ARG, (q) => q.put(1, { priority: -(2 ** 31) - 1 })),
    row('priority: non-integer', ARG, (q) => q.put(1, { priority: 0.5 })),
    row('priority: NaN', ARG, (q) => q.put(1, { priority: Number.NaN })),
    row('priority: string', ARG, (q) => q.put(1, { priority: '3' as never })),
    row('under /zookeeper', PATH, (_, c) => new Queue(c, '/zookeeper/q').put(1)),
  ]),
  group('Queue.take / consume', (c: ZkClient) => new Queue(c, '/q'), [
    ...badTimeouts<Queue<unknown>>((q, timeout) => q.take({ timeout })),
    ...badCounts<Queue<unknown>>('concurrency', (q, concurrency) => q.consume({ concurrency })),
  ]),
  group(
    'Queue after close',
    async (c: ZkClient) => {
      const q = new Queue(c, '/q');
      await q.close();
      return q;
    },
    [
      row('put', CLOSED, (q) => q.put(1)),
      row('take', CLOSED, (q) => q.take()),
      row('consume', CLOSED, (q) => q.consume()),
    ],
  ),
];

// --- @zkit/registry ----------------------------------------------------------------------------

const BASE = '/services';

function registry(c: ZkClient): ServiceRegistry {
  return new ServiceRegistry(c, { basePath: BASE });
}

const registryGroups: Group[] = [
  group('ServiceRegistry constructor', (c: ZkClient) => c, [
    ...badPaths<ZkClient>((c, p) => new ServiceRegistry(c, { basePath: p })),
    row('options missing', ARG, (c) => new ServiceRegistry(c, undefined as never)),
  ]),
  group('ServiceRegistry.register', registry, [
    ...badPaths<ServiceRegistry>((r, p) => r.register({ name: p })).map((c) => ({
      ...c,
      input: `name: ${c.input}`,
    })),
    row('name with a slash', PATH, (r) => r.register({ name: 'a/b' })),
    row('id ".."', PATH, (r) => r.register({ name: 'api', id: '..' })),
    row('id with a slash', PATH, (r) => r.register({ name: 'api', id: 'x/y' })),
    row('instance: null', ARG, (r) => r.register(null as never)),
    ...(['port', 'sslPort'] as const).flatMap((field) =>
      (
        [
          ['65536', 65536],
          ['negative', -1],
          ['non-integer', 80.5],
          ['NaN', Number.NaN],
          ['string', '80'],
        ] as const
      ).map(([input, value]) =>
        row<ServiceRegistry>(`${field}: ${input}`, ARG, (r) =>
          r.register({ name: 'api', [field]: value as number }),
        ),
      ),
    ),
    row('address: number', ARG, (r) => r.register({ name: 'api', address: 1 as never })),
    row('serviceType: unknown', ARG, (r) =>
      r.register({ name: 'api', serviceType: 'EPHEMERAL' as never }),
    ),
    row('registrationTimeUTC: NaN', ARG, (r) =>
      r.register({ name: 'api', registrationTimeUTC: Number.NaN }),
    ),
    row('registrationTimeUTC: non-integer', ARG, (r) =>
      r.register({ name: 'api', registrationTimeUTC: 1.5 }),
    ),
    row('payload without payloadClass', ARG, (r) => r.register({ name: 'api', payload: { a: 1 } })),
    row('enabled: not a boolean', ARG, (r) =>
      r.register({ name: 'api', enabled: 'false' as never }),
    ),
    row('payloadClass: empty', ARG, (r) =>
      r.register({ name: 'api', payloadClass: '', payload: { a: 1 } }),
    ),
    row('payloadClass with a non-object payload', ARG, (r) =>
      r.register({ name: 'api', payloadClass: 'x.Y', payload: 5 }),
    ),
    row('uriSpec: unclosed "{"', ARG, (r) => r.register({ name: 'api', uriSpec: '{scheme://' })),
    row('uriSpec: stray "}"', ARG, (r) => r.register({ name: 'api', uriSpec: 'http://a}' })),
    row('uriSpec: parts not a list', ARG, (r) =>
      r.register({ name: 'api', uriSpec: { parts: 'x' } as never }),
    ),
    row('uriSpec: a part without variable flag', ARG, (r) =>
      r.register({ name: 'api', uriSpec: { parts: [{ value: 'x' }] } as never }),
    ),
    row('payload of 1 MiB + 1 characters', SIZE, (r) =>
      r.register({ name: 'api', payloadClass: 'x.Y', payload: { blob: OVERSIZE_TEXT } }),
    ),
    ...badTimeouts<ServiceRegistry>((r, timeout) => r.register({ name: 'api' }, { timeout })),
  ]),
  group(
    'ServiceRegistry.update / unregister',
    async (c: ZkClient) => {
      const r = registry(c);
      await r.register({ name: 'api', id: 'one', port: 80 });
      return r;
    },
    [
      row('update: an id never registered', NOT_REGISTERED, (r) =>
        r.update({ name: 'api', id: 'two' }),
      ),
      row('update: instance null', NOT_REGISTERED, (r) => r.update(null as never)),
      row('update: another name', ARG, (r) => r.update({ name: 'web', id: 'one' })),
      row('update: port 65536', ARG, (r) => r.update({ name: 'api', id: 'one', port: 65536 })),
      row('update: payload of 1 MiB + 1 characters', SIZE, (r) =>
        r.update({ name: 'api', id: 'one', payloadClass: 'x.Y', payload: { b: OVERSIZE_TEXT } }),
      ),
      ...badTimeouts<ServiceRegistry>((r, timeout) =>
        r.update({ name: 'api', id: 'one' }, { timeout }),
      ),
      row('unregister: an id never registered', NOT_REGISTERED, (r) => r.unregister('two')),
      row('unregister: id not a string', NOT_REGISTERED, (r) => r.unregister(5 as never)),
    ],
    (r) => r.close(),
  ),
  group(
    'ServiceRegistry queries, caches and providers: service names',
    registry,
    [
      row('instances: ".."', PATH, (r) => r.instances('..')),
      row('instances: a slash', ARG, (r) => r.instances('a/b')),
      row('instances: empty', ARG, (r) => r.instances('')),
      row('instance: id ".."', PATH, (r) => r.instance('api', '..')),
      row('cache: NUL', PATH, (r) => r.cache('a\u0000')),
      row('cache: empty', ARG, (r) => r.cache('')),
      row('provider: "."', PATH, (r) => r.provider('.')),
      ...badTimeouts<ServiceRegistry>((r, timeout) => r.names({ timeout })),
      ...badTimeouts<ServiceRegistry>((r, timeout) => r.instances('api', { timeout })),
    ],
    (r) => r.close(),
  ),
  group(
    'ServiceProvider options',
    async (c: ZkClient) => {
      const r = registry(c);
      const cache = r.cache('api');
      await cache.ready();
      return { r, cache };
    },
    [
      row(
        'strategy: unknown',
        ARG,
        ({ cache }) => new ServiceProvider(cache, { strategy: 'leastLoaded' as never }),
      ),
      ...(
        [
          ['negative', -1],
          ['NaN', Number.NaN],
          ['Infinity', Number.POSITIVE_INFINITY],
          ['string', '10'],
        ] as const
      ).map(([input, timeout]) =>
        row<{ cache: ServiceProvider['cache'] }>(
          `downInstancePolicy.timeout: ${input}`,
          ARG,
          ({ cache }) =>
            new ServiceProvider(cache, { downInstancePolicy: { timeout: timeout as number } }),
        ),
      ),
      ...badCounts<{ cache: ServiceProvider['cache'] }>(
        'downInstancePolicy.errorThreshold',
        ({ cache }, errorThreshold) =>
          new ServiceProvider(cache, { downInstancePolicy: { errorThreshold } }),
      ),
      ...badTimeouts<{ cache: ServiceProvider['cache'] }>(({ cache }, timeout) =>
        cache.ready({ timeout }),
      ),
    ],
    ({ r }) => r.close(),
  ),
  group('uriSpec', () => undefined, [
    row('parseUriSpec: not a string', ARG, () => parseUriSpec(5 as never)),
    row('parseUriSpec: unclosed "{"', ARG, () => parseUriSpec('{scheme}://{address')),
    row('parseUriSpec: nested "{"', ARG, () => parseUriSpec('{a{b}}')),
    row('parseUriSpec: stray "}"', ARG, () => parseUriSpec('http://x}')),
    row('buildUri: an instance without uriSpec', ARG, () =>
      buildUri({ ...INSTANCE, uriSpec: null }),
    ),
  ]),
];

const INSTANCE: ServiceInstance = {
  name: 'api',
  id: 'one',
  address: 'localhost',
  port: 80,
  sslPort: null,
  payload: null,
  registrationTimeUTC: 0,
  serviceType: 'DYNAMIC',
  uriSpec: null,
  enabled: true,
};

// ---------------------------------------------------------------------------------------------
// The checks

const published: OpMessage[] = [];
const onOp = (message: unknown) => {
  published.push(message as OpMessage);
};
beforeAll(() => {
  diagnostics.subscribe('zkit:op', onOp);
});
afterAll(() => {
  diagnostics.unsubscribe('zkit:op', onOp);
});

/** Every node under `path`, depth first, sorted. */
async function tree(client: ZkClient, path = '/'): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await client.getChildren(path)).sort()) {
    const child = join(path, name);
    out.push(child, ...(await tree(client, child)));
  }
  return out;
}

const HUNG = Symbol('hung');

/** What a row's call did; a pending promise counts as a hang after `ms`. */
async function outcome(call: () => unknown, ms: number): Promise<{ error?: unknown; how: string }> {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    return { error, how: 'threw' };
  }
  if (!(result instanceof Promise)) return { how: 'returned' };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<typeof HUNG>((resolve) => {
    timer = setTimeout(() => resolve(HUNG), ms);
  });
  try {
    const settled = await Promise.race([result, hung]);
    return { how: settled === HUNG ? 'hung' : 'resolved' };
  } catch (error) {
    return { error, how: 'rejected' };
  } finally {
    clearTimeout(timer);
  }
}

let probes = 0;

/** Runs one row; returns what went wrong with it, or nothing. */
async function check(client: ZkClient, r: Row): Promise<string[]> {
  const problems: string[] = [];
  const before = await tree(client);
  const mark = published.length;
  const { error, how } = await outcome(r.call, 5000);
  if (how === 'returned' || how === 'resolved' || how === 'hung') {
    problems.push(`${how} instead of raising ${r.error.name}`);
  } else if (!(error instanceof Error) || error.constructor !== r.error) {
    const got = error instanceof Error ? `${error.constructor.name}: ${error.message}` : error;
    problems.push(`${how} ${String(got)} instead of ${r.error.name}`);
  } else if (r.code !== undefined && (error as Error & { code?: unknown }).code !== r.code) {
    problems.push(`code ${String((error as { code?: unknown }).code)} instead of ${r.code}`);
  }
  // The client still works: a write and a read on the same session.
  const probe = `/probe-${++probes}`;
  await client.create(probe, 'ok', { mode: 'ephemeral' });
  expect((await client.get(probe)).data.toString()).toBe('ok');
  await client.delete(probe);
  expect(client.state).toBe('connected');
  const requests = published
    .slice(mark)
    .filter((m) => m.path !== probe)
    .map((m) => `${m.op} ${m.path}`);
  if (requests.length > 0) problems.push(`sent ${requests.join(', ')}`);
  const after = await tree(client);
  if (after.join() !== before.join()) {
    problems.push(`left nodes behind: ${after.filter((p) => !before.includes(p)).join(', ')}`);
  }
  return problems;
}

const ALL: readonly (readonly [string, readonly Group[]])[] = [
  ['@zkit/core', [...coreGroups, ...persistentNodeGroups]],
  ['@zkit/lock', lockGroups],
  ['@zkit/election', electionGroups],
  ['@zkit/barrier', barrierGroups],
  ['@zkit/queue', queueGroups],
  ['@zkit/registry', registryGroups],
  ['@zkit/group', groupGroups],
];

let rowCount = 0;

for (const [pkg, groups] of ALL) {
  describe(`bad input - ${pkg}`, () => {
    test.for(groups.map((g) => [g.api, g] as const))(
      'bad input - %s: every invalid argument raises its typed error before any request',
      async ([, g], { zk }) => {
        const client = await zk.client({ sessionTimeout: 10_000 });
        const { rows, teardown } = await g.rows(client);
        const failures: string[] = [];
        try {
          for (const r of rows) {
            for (const problem of await check(client, r)) failures.push(`${r.input}: ${problem}`);
          }
        } finally {
          await teardown();
        }
        rowCount += rows.length;
        expect(rows.length).toBeGreaterThan(0);
        expect(failures).toEqual([]);
      },
    );
  });
}

afterAll(() => {
  // The size of the table, for the record (vitest prints console output of the file).
  console.info(`bad input: ${rowCount} rows`);
});
