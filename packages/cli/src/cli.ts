/**
 * The `zkit` command: argument parsing, the connection, and one function per command. Every
 * command reads through a recipe's own inspection API (`detectLockKind`, `inspectLock`,
 * `inspectReadWriteLock`, `inspectSemaphore`, `inspectElection`, …) or core's plain reads, so the
 * CLI knows no znode layout of its own.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import {
  InvalidPathError,
  NoNodeError,
  ZkClient,
  ZkError,
  join,
  validatePath,
  type Stat,
} from '@zkit/core';
import { inspectBarrier } from '@zkit/barrier';
import { inspectElection } from '@zkit/election';
import {
  detectLockKind,
  inspectLock,
  inspectReadWriteLock,
  inspectSemaphore,
  type FencingTokenBounds,
  type InspectedNode,
  type LockKind,
} from '@zkit/lock';
import { inspectQueue, stringSerializer } from '@zkit/queue';
import { ServiceRegistry, type ServiceInstance } from '@zkit/registry';
import { formatAge } from './format.js';
import { topCommand, type CliInput } from './top.js';

/** A stream {@link main} writes to: `process.stdout` and `process.stderr` are ones. */
export interface CliOutput {
  /** Writes text as it is (lines end with `\n`). */
  write(text: string): unknown;
  /** Whether it is a terminal: tables and colour only then. */
  readonly isTTY?: boolean | undefined;
  /** A terminal's width in characters: `zkit top` fits its lines to it. */
  readonly columns?: number | undefined;
  /** A terminal's height in lines: `zkit top` shows no more. */
  readonly rows?: number | undefined;
}

/** Where {@link main} writes, and what it reads from its environment. */
export interface CliIo {
  /** Results. Tables and colour only when `isTTY` is true. */
  readonly stdout: CliOutput;
  /** Errors: one line each. */
  readonly stderr: CliOutput;
  /** The environment: `ZOOKEEPER_CONNECT` names the server when `--server` does not. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The keyboard of `zkit top`'s full-screen view (`q` or Ctrl-C ends it); others ignore it. */
  readonly stdin?: CliInput;
  /** Ends `zkit watch` and `zkit top` (the binary aborts it on SIGINT); others ignore it. */
  readonly signal?: AbortSignal;
  /** The clock ages are measured against, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** Exit codes of {@link main}. */
export const ExitCode = Object.freeze({
  /** The thing asked about exists; its state was printed. */
  found: 0,
  /** The path asked about does not exist. */
  notFound: 1,
  /** Bad arguments, no server named, the server unreachable, or a path of an unknown layout. */
  error: 2,
});

/** A one-line failure with its exit code. */
class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = ExitCode.error,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Names an operator may have meant for `ZOOKEEPER_CONNECT`: `ZK_CONNECT`, `zookeeper_connect`, … */
const LOOKALIKE = /^(zoo_?keeper|zk)_?(connect|connection|connect_?string|servers?|hosts?)$/i;

const COMMON_HELP = `Options (every command):
  --server HOST:PORT[,...][/chroot]  the ensemble (default: $ZOOKEEPER_CONNECT)
  --timeout MS                       how long to wait for a connection (default 5000)
  --json                             one JSON document on stdout (schemas: docs/cli.md)
  -h, --help                         this help`;

const EXIT_HELP = `Exit codes: 0 found, 1 the path does not exist, 2 usage or connection error.`;

interface Command {
  readonly summary: string;
  readonly usage: string;
  /** More text for `zkit COMMAND --help`. */
  readonly details?: string;
  readonly run: (ctx: Context, path: string) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  lock: {
    summary: 'holders and waiters of a mutex, read-write lock or semaphore, with fencing tokens',
    usage: 'zkit lock PATH [--kind mutex|rw|semaphore] [--permits N | --count-path PATH]',
    details: `The kind is told from the lock's children: a semaphore has 'leases' and 'locks'
children, a read-write lock's nodes carry __READ__ or __WRIT__, a mutex's lock-; a lock with no
nodes reads as a free mutex. --kind says it instead. A semaphore's number of permits is not
stored with it: --permits N gives it, --count-path PATH reads it from a shared count.`,
    run: lockCommand,
  },
  leader: {
    summary: 'leader and participants of an election (latch or selector)',
    usage: 'zkit leader PATH',
    run: leaderCommand,
  },
  queue: {
    summary: 'depth, oldest item, claimed items; --peek N shows the first N items',
    usage: 'zkit queue PATH [--lock-path PATH] [--peek N]',
    run: queueCommand,
  },
  services: {
    summary: 'services and their instances (Curator service discovery), or one service',
    usage: 'zkit services BASE [NAME]',
    run: servicesCommand,
  },
  barrier: {
    summary: 'whether a barrier is up; for a double barrier, who entered',
    usage: 'zkit barrier PATH',
    run: barrierCommand,
  },
  get: { summary: "a node's data and stat", usage: 'zkit get PATH', run: getCommand },
  stat: { summary: "a node's stat", usage: 'zkit stat PATH', run: statCommand },
  tree: { summary: 'a node and everything below it', usage: 'zkit tree PATH', run: treeCommand },
  watch: {
    summary: "prints a node's data and children changes until Ctrl-C",
    usage: 'zkit watch PATH',
    run: watchCommand,
  },
  top: {
    summary: 'a live view of every recipe under a path (q or Ctrl-C quits); --once prints it once',
    usage: 'zkit top PATH [--once]',
    run: (ctx, path) =>
      topCommand({
        client: ctx.client,
        server: ctx.server,
        path,
        json: ctx.json,
        once: ctx.once,
        io: ctx.io,
      }),
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`,
  );
  return `Usage: zkit COMMAND PATH [options]\n\nInspect ZooKeeper coordination recipes.\n\nCommands:\n${lines.join('\n')}\n\n${COMMON_HELP}\n\n${EXIT_HELP}\n`;
}

function commandHelp(name: string, command: Command): string {
  const details = command.details === undefined ? '' : `${command.details}\n\n`;
  return `Usage: ${command.usage} [options]\n\n${name}: ${command.summary}.\n\n${details}${COMMON_HELP}\n\n${EXIT_HELP}\n`;
}

interface Context {
  readonly client: ZkClient;
  readonly json: boolean;
  readonly io: CliIo;
  readonly now: number;
  /** `--lock-path` and `--peek`, for `zkit queue`. */
  readonly lockPath: string | undefined;
  readonly peek: number;
  /** `NAME`, for `zkit services`. */
  readonly service: string | undefined;
  /** `--kind`, `--permits` and `--count-path`, for `zkit lock`. */
  readonly lock: LockOptions;
  /** The server as given, for `zkit top`'s header. */
  readonly server: string;
  /** `--once`, for `zkit top`. */
  readonly once: boolean;
}

interface LockOptions {
  readonly kind: LockKind | undefined;
  readonly permits: number | undefined;
  readonly countPath: string | undefined;
}

const KINDS: Readonly<Record<string, LockKind>> = {
  mutex: 'mutex',
  rw: 'readWrite',
  semaphore: 'semaphore',
};

/**
 * Runs one `zkit` command line and resolves its exit code: `0` found, `1` the path does not
 * exist, `2` a usage or connection error (one line on `stderr` naming the server). What the
 * `zkit` binary runs; callable from a program too.
 *
 * @example
 * ```ts
 * const code = await main(['lock', '/locks/invoice-42', '--json'], {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 *   env: process.env,
 * });
 * ```
 * @param argv - the arguments after the program name
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`zkit: ${error.message}\n`);
      return error.code;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`zkit: ${message.split('\n')[0]}\n`);
    return ExitCode.error;
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        server: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'lock-path': { type: 'string' },
        peek: { type: 'string' },
        kind: { type: 'string' },
        permits: { type: 'string' },
        'count-path': { type: 'string' },
        once: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]} (see zkit --help)`);
  }
  const { values, positionals } = parsed;
  const [name, path, ...extra] = positionals;
  if (name === undefined) {
    if (values.help === true) {
      io.stdout.write(mainHelp());
      return ExitCode.found;
    }
    io.stderr.write(mainHelp());
    return ExitCode.error;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) throw new CliError(`unknown command '${name}' (see zkit --help)`);
  if (values.help === true) {
    io.stdout.write(commandHelp(name, command));
    return ExitCode.found;
  }
  if (path === undefined) throw new CliError(`missing PATH: ${command.usage}`);
  const [service, ...rest] = name === 'services' ? extra : [undefined, ...extra];
  if (rest.length > 0) throw new CliError(`unexpected argument '${rest[0]}': ${command.usage}`);
  checkPath(path);
  const timeout = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new CliError(
      `--timeout must be a positive number of milliseconds, not '${values.timeout}'`,
    );
  }
  if (name !== 'queue' && (values.peek !== undefined || values['lock-path'] !== undefined)) {
    throw new CliError(`--peek and --lock-path are options of zkit queue`);
  }
  if (name !== 'top' && values.once !== undefined) {
    throw new CliError(`--once is an option of zkit top`);
  }
  const peek = values.peek === undefined ? 0 : Number(values.peek);
  if (!Number.isSafeInteger(peek) || peek < 0) {
    throw new CliError(`--peek must be a number of items, not '${values.peek}'`);
  }
  const lockPath = values['lock-path'];
  if (lockPath !== undefined) checkPath(lockPath);
  const lock = lockOptions(name, values);
  const server = values.server ?? io.env.ZOOKEEPER_CONNECT;
  if (server === undefined || server === '') {
    const lookalike = Object.keys(io.env).find(
      (key) => key !== 'ZOOKEEPER_CONNECT' && LOOKALIKE.test(key) && io.env[key] !== '',
    );
    throw new CliError(
      'no server: pass --server HOST:PORT or set ZOOKEEPER_CONNECT' +
        (lookalike === undefined ? '' : ` (${lookalike} is set, but zkit reads ZOOKEEPER_CONNECT)`),
    );
  }
  let client: ZkClient;
  try {
    client = new ZkClient(server, { connectTimeout: timeout, sessionTimeout: 10_000 });
  } catch (error) {
    throw new CliError(`bad server '${server}': ${(error as Error).message}`);
  }
  try {
    try {
      await client.start();
    } catch {
      throw new CliError(`cannot connect to ${server} within ${timeout} ms`);
    }
    const now = (io.now ?? Date.now)();
    return await command.run(
      {
        client,
        json: values.json === true,
        io,
        now,
        lockPath,
        peek,
        service,
        lock,
        server,
        once: values.once === true,
      },
      path,
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof InvalidPathError)
      throw new CliError(`bad path '${path}': ${error.message}`);
    if (error instanceof ZkError) throw new CliError(`${server}: ${error.message.split('\n')[0]}`);
    throw error;
  } finally {
    await client.close();
  }
}

function checkPath(path: string): void {
  try {
    validatePath(path);
  } catch (error) {
    if (error instanceof InvalidPathError)
      throw new CliError(`bad path '${path}': ${error.message}`);
    throw error;
  }
}

function lockOptions(
  name: string,
  values: { kind?: string; permits?: string; 'count-path'?: string },
): LockOptions {
  const { kind, permits, 'count-path': countPath } = values;
  if (name !== 'lock' && (kind ?? permits ?? countPath) !== undefined) {
    throw new CliError(`--kind, --permits and --count-path are options of zkit lock`);
  }
  if (kind !== undefined && !Object.hasOwn(KINDS, kind)) {
    throw new CliError(`--kind must be mutex, rw or semaphore, not '${kind}'`);
  }
  const count = permits === undefined ? undefined : Number(permits);
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 1)) {
    throw new CliError(`--permits must be a number ≥ 1, not '${permits}'`);
  }
  if (countPath !== undefined) checkPath(countPath);
  return { kind: kind === undefined ? undefined : KINDS[kind], permits: count, countPath };
}

// ---- commands -----------------------------------------------------------------------------

async function lockCommand(ctx: Context, path: string): Promise<number> {
  const { kind: given, permits, countPath } = ctx.lock;
  const kind = given ?? (await detectLockKind(ctx.client, path));
  if (kind === null) return notFound(ctx, path);
  if (kind === 'unknown') {
    throw new CliError(
      `${path} is not a lock: its children are neither mutex, read-write lock nor semaphore nodes`,
    );
  }
  if (kind !== 'semaphore' && (permits ?? countPath) !== undefined) {
    throw new CliError(
      `--permits and --count-path are for a semaphore; ${path} is a ${kind === 'mutex' ? 'mutex' : 'read-write lock'}`,
    );
  }
  if (kind === 'readWrite') return readWriteCommand(ctx, path);
  if (kind === 'semaphore') return semaphoreCommand(ctx, path);
  const lock = await inspectLock(ctx.client, path);
  if (lock === null) return notFound(ctx, path);
  const nodes = lock.nodes.map((n) => ({ role: n.role, ...nodeJson(ctx, n) }));
  const token = lock.fencingToken;
  if (ctx.json) {
    return printJson(ctx, {
      path: lock.path,
      kind: 'mutex',
      held: nodes.length > 0,
      fencingToken: tokenJson(token),
      nodes,
    });
  }
  if (token === null) {
    ctx.io.stdout.write(`${lock.path}: not held\n`);
    return ExitCode.found;
  }
  const exact = token.min === token.max;
  ctx.io.stdout.write(
    `${lock.path}: held, fencing token ${formatToken(token)}` +
      `${exact ? '' : " (between the holder's create and the latest change to the waiters)"}\n`,
  );
  printTable(
    ctx,
    ['ROLE', 'SESSION', 'DATA', 'AGE', 'NODE'],
    nodes.map((n) => [n.role, n.sessionId, n.data, formatAge(n.ageMs), n.name]),
  );
  return ExitCode.found;
}

async function readWriteCommand(ctx: Context, path: string): Promise<number> {
  const lock = await inspectReadWriteLock(ctx.client, path);
  if (lock === null) return notFound(ctx, path);
  const nodes = lock.nodes.map((n) => ({
    role: n.role,
    mode: n.mode,
    ...nodeJson(ctx, n),
    fencingToken: tokenJson(n.fencingToken),
  }));
  if (ctx.json) {
    return printJson(ctx, {
      path: lock.path,
      kind: 'readWrite',
      held: nodes.length > 0,
      nodes,
    });
  }
  const holders = lock.nodes.filter((n) => n.role === 'holder');
  const state =
    holders.length === 0
      ? 'not held'
      : holders[0]?.mode === 'write'
        ? 'write-locked'
        : `read-locked by ${holders.length} reader${holders.length === 1 ? '' : 's'}`;
  const waiting = nodes.length - holders.length;
  ctx.io.stdout.write(
    `${lock.path}: read-write lock, ${state}${waiting === 0 ? '' : `, ${waiting} waiting`}\n`,
  );
  if (nodes.length > 0) {
    printTable(
      ctx,
      ['ROLE', 'MODE', 'SESSION', 'DATA', 'AGE', 'TOKEN', 'NODE'],
      lock.nodes.map((n, i) => {
        const row = nodes[i] as (typeof nodes)[number];
        return [
          n.role,
          n.mode,
          row.sessionId,
          row.data,
          formatAge(row.ageMs),
          n.fencingToken === null ? '-' : formatToken(n.fencingToken),
          n.name,
        ];
      }),
    );
  }
  return ExitCode.found;
}

async function semaphoreCommand(ctx: Context, path: string): Promise<number> {
  const { permits, countPath } = ctx.lock;
  const semaphore = await inspectSemaphore(ctx.client, path, {
    ...(permits === undefined ? {} : { permits }),
    ...(countPath === undefined ? {} : { countPath }),
  });
  if (semaphore === null) return notFound(ctx, path);
  const leases = semaphore.leases.map((n) => ({
    ...nodeJson(ctx, n),
    fencingToken: tokenJson(n.fencingToken),
  }));
  const waiters = semaphore.waiters.map((n) => nodeJson(ctx, n));
  if (ctx.json) {
    return printJson(ctx, {
      path: semaphore.path,
      kind: 'semaphore',
      permits: semaphore.permits,
      inUse: leases.length,
      leases,
      waiters,
    });
  }
  const used = leases.length;
  ctx.io.stdout.write(
    `${semaphore.path}: semaphore, ${used}${semaphore.permits === null ? '' : ` of ${semaphore.permits}`}` +
      ` lease${used === 1 && semaphore.permits === null ? '' : 's'} in use, ${waiters.length} waiting\n`,
  );
  if (used + waiters.length > 0) {
    printTable(
      ctx,
      ['ROLE', 'SESSION', 'DATA', 'AGE', 'TOKEN', 'NODE'],
      [
        ...semaphore.leases.map((n, i) => {
          const row = leases[i] as (typeof leases)[number];
          return [
            'lease',
            row.sessionId,
            row.data,
            formatAge(row.ageMs),
            formatToken(n.fencingToken),
            n.name,
          ];
        }),
        ...waiters.map((w) => ['waiter', w.sessionId, w.data, formatAge(w.ageMs), '-', w.name]),
      ],
    );
  }
  return ExitCode.found;
}

/** What every lock node shows: session, data, creation and age, name. */
function nodeJson(ctx: Context, n: InspectedNode) {
  return {
    sessionId: n.sessionId,
    data: n.data.toString('utf8'),
    created: new Date(n.ctime).toISOString(),
    ageMs: Math.max(0, ctx.now - n.ctime),
    name: n.name,
  };
}

function tokenJson(token: FencingTokenBounds | null): { min: string; max: string } | null {
  return token && { min: String(token.min), max: String(token.max) };
}

/** `8` when exact, `8..9` when only bounds are known. */
function formatToken(token: FencingTokenBounds): string {
  return token.min === token.max ? String(token.min) : `${token.min}..${token.max}`;
}

async function leaderCommand(ctx: Context, path: string): Promise<number> {
  const election = await inspectElection(ctx.client, path);
  if (election === null) return notFound(ctx, path);
  if (election.layout === 'unknown') {
    throw new CliError(
      `${election.path} is not an election: its children are neither latch nor selector nodes`,
    );
  }
  const participants = election.participants.map((p) => ({
    id: p.id,
    leader: p.isLeader,
    sessionId: p.sessionId,
    created: new Date(p.ctime).toISOString(),
    ageMs: Math.max(0, ctx.now - p.ctime),
    name: p.name,
  }));
  if (ctx.json) {
    return printJson(ctx, { path: election.path, layout: election.layout, participants });
  }
  const leader = participants[0];
  ctx.io.stdout.write(
    leader === undefined
      ? `${election.path}: no participants\n`
      : `${election.path}: ${election.layout} election, leader ${leader.id || '(no id)'}\n`,
  );
  if (leader !== undefined) {
    printTable(
      ctx,
      ['ROLE', 'ID', 'SESSION', 'AGE', 'NODE'],
      participants.map((p) => [
        p.leader ? 'leader' : 'follower',
        p.id,
        p.sessionId,
        formatAge(p.ageMs),
        p.name,
      ]),
    );
  }
  return ExitCode.found;
}

async function queueCommand(ctx: Context, path: string): Promise<number> {
  // Payloads are shown as text: the CLI cannot know a queue's serializer, and a payload that is
  // not JSON is not malformed. Only a node whose framing is broken is.
  const queue = await inspectQueue(ctx.client, path, {
    peek: ctx.peek,
    serializer: stringSerializer,
    ...(ctx.lockPath === undefined ? {} : { lockPath: ctx.lockPath }),
  });
  if (queue === null) return notFound(ctx, path);
  const age = (ctime: number) => ({
    created: new Date(ctime).toISOString(),
    ageMs: Math.max(0, ctx.now - ctime),
  });
  const oldest = queue.oldest && { name: queue.oldest.name, ...age(queue.oldest.ctime) };
  const claimed = queue.claimed.map((c) => ({
    name: c.name,
    sessionId: c.sessionId,
    ...age(c.ctime),
  }));
  const items = queue.items.map((i) => ({
    name: i.name,
    ...age(i.ctime),
    ...(i.malformed === undefined ? { values: i.values ?? [] } : { malformed: i.malformed }),
  }));
  if (ctx.json) {
    return printJson(ctx, {
      path: queue.path,
      lockPath: queue.lockPath,
      depth: queue.depth,
      oldest,
      claimed,
      items,
    });
  }
  ctx.io.stdout.write(
    `${queue.path}: ${queue.depth} item${queue.depth === 1 ? '' : 's'}` +
      (oldest === null ? '' : `, oldest ${formatAge(oldest.ageMs)} (${oldest.name})`) +
      `, ${claimed.length} claimed in ${queue.lockPath}\n`,
  );
  if (claimed.length > 0) {
    printTable(
      ctx,
      ['CLAIMED', 'SESSION', 'AGE'],
      claimed.map((c) => [c.name, c.sessionId, formatAge(c.ageMs)]),
    );
  }
  if (items.length > 0) {
    printTable(
      ctx,
      ['ITEM', 'AGE', 'VALUE'],
      items.map((i) => [
        i.name,
        formatAge(i.ageMs),
        'malformed' in i ? `malformed: ${i.malformed}` : (i.values ?? []).join(' | '),
      ]),
    );
  }
  return ExitCode.found;
}

async function servicesCommand(ctx: Context, basePath: string): Promise<number> {
  if ((await ctx.client.exists(basePath)) === null) return notFound(ctx, basePath);
  // Only reads: a registry that registers nothing, closed (listeners removed) when done.
  const registry = new ServiceRegistry(ctx.client, { basePath });
  const malformed: string[] = [];
  registry.on('quarantined', (error) => malformed.push(`${error.path}: ${error.message}`));
  let services: { name: string; instances: ServiceInstance[] }[];
  try {
    const names = await registry.names();
    if (ctx.service !== undefined && !names.includes(ctx.service)) {
      return notFound(ctx, `${basePath} service ${ctx.service}`);
    }
    const wanted = ctx.service === undefined ? names : [ctx.service];
    services = await Promise.all(
      wanted.map(async (name) => ({ name, instances: await registry.instances(name) })),
    );
  } finally {
    await registry.close();
  }
  const rows = services.map((s) => ({
    name: s.name,
    instances: s.instances.map((i) => ({
      id: i.id,
      address: i.address,
      port: i.port,
      sslPort: i.sslPort,
      serviceType: i.serviceType,
      registered: new Date(i.registrationTimeUTC).toISOString(),
      ageMs: Math.max(0, ctx.now - i.registrationTimeUTC),
      payload: i.payload,
    })),
  }));
  if (ctx.json) return printJson(ctx, { basePath, services: rows, malformed });
  const count = rows.reduce((n, s) => n + s.instances.length, 0);
  ctx.io.stdout.write(
    `${basePath}: ${rows.length} service${rows.length === 1 ? '' : 's'}, ` +
      `${count} instance${count === 1 ? '' : 's'}\n`,
  );
  if (count > 0) {
    printTable(
      ctx,
      ['SERVICE', 'ID', 'ADDRESS', 'PORT', 'AGE', 'PAYLOAD'],
      rows.flatMap((s) =>
        s.instances.map((i) => [
          s.name,
          i.id,
          i.address ?? '-',
          i.port === null ? '-' : String(i.port),
          formatAge(i.ageMs),
          i.payload === null ? '-' : JSON.stringify(i.payload),
        ]),
      ),
    );
  }
  for (const line of malformed) ctx.io.stdout.write(`malformed: ${line}\n`);
  return ExitCode.found;
}

async function barrierCommand(ctx: Context, path: string): Promise<number> {
  const barrier = await inspectBarrier(ctx.client, path);
  const members = barrier.members.map((m) => ({
    name: m.name,
    sessionId: m.sessionId,
    created: new Date(m.ctime).toISOString(),
    ageMs: Math.max(0, ctx.now - m.ctime),
  }));
  if (ctx.json) {
    return printJson(ctx, { path: barrier.path, up: barrier.up, ready: barrier.ready, members });
  }
  // A missing node is a barrier that is down, not an unknown path: that is the barrier's layout.
  const state = !barrier.up
    ? 'down'
    : members.length === 0
      ? 'up'
      : `up, ${members.length} entered${barrier.ready ? ', ready (everybody came)' : ''}`;
  ctx.io.stdout.write(`${barrier.path}: ${state}\n`);
  if (members.length > 0) {
    printTable(
      ctx,
      ['MEMBER', 'SESSION', 'AGE'],
      members.map((m) => [m.name, m.sessionId, formatAge(m.ageMs)]),
    );
  }
  return ExitCode.found;
}

async function getCommand(ctx: Context, path: string): Promise<number> {
  let read: { data: Buffer; stat: Stat };
  try {
    read = await ctx.client.get(path);
  } catch (error) {
    if (error instanceof NoNodeError) return notFound(ctx, path);
    throw error;
  }
  if (ctx.json) {
    return printJson(ctx, { path, data: read.data.toString('utf8'), stat: statJson(read.stat) });
  }
  ctx.io.stdout.write(`${read.data.toString('utf8')}\n`);
  return ExitCode.found;
}

async function statCommand(ctx: Context, path: string): Promise<number> {
  const stat = await ctx.client.exists(path);
  if (stat === null) return notFound(ctx, path);
  if (ctx.json) return printJson(ctx, { path, stat: statJson(stat) });
  printTable(
    ctx,
    ['FIELD', 'VALUE'],
    Object.entries(statJson(stat)).map(([k, v]) => [k, String(v)]),
  );
  return ExitCode.found;
}

async function treeCommand(ctx: Context, path: string): Promise<number> {
  const root = await ctx.client.exists(path);
  if (root === null) return notFound(ctx, path);
  // Depth-first in name order; every level's listings are sent together. Nodes gone meanwhile
  // are left out.
  const walk = async (at: string, depth: number): Promise<TreeNode[]> => {
    let children: string[];
    try {
      children = await ctx.client.getChildren(at);
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
    const subs = await Promise.all(children.sort().map((c) => walk(join(at, c), depth + 1)));
    return [{ path: at, depth }, ...subs.flat()];
  };
  const nodes = await walk(path, 0);
  if (ctx.json) return printJson(ctx, { path, nodes: nodes.map((n) => n.path) });
  for (const n of nodes) {
    const name = n.depth === 0 ? n.path : n.path.slice(n.path.lastIndexOf('/') + 1);
    ctx.io.stdout.write(`${'  '.repeat(n.depth)}${name}\n`);
  }
  return ExitCode.found;
}

interface TreeNode {
  readonly path: string;
  readonly depth: number;
}

async function watchCommand(ctx: Context, path: string): Promise<number> {
  const signal = ctx.io.signal ?? new AbortController().signal;
  const emit = (event: Record<string, unknown>, text: string) => {
    const time = new Date().toISOString();
    ctx.io.stdout.write(
      ctx.json ? `${JSON.stringify({ time, path, ...event })}\n` : `${time} ${path} ${text}\n`,
    );
  };
  // Snapshots are fresh reads and may repeat: only a changed zxid is an event.
  let dataSeen: string | undefined;
  const data = async () => {
    for await (const snap of ctx.client.watchData(path, { signal })) {
      const key = snap === null ? 'none' : String(snap.stat.mzxid);
      if (key === dataSeen) continue;
      const first = dataSeen === undefined;
      dataSeen = key;
      if (snap === null) emit({ event: 'absent' }, first ? 'does not exist' : 'deleted');
      else {
        const text = snap.data.toString('utf8');
        emit(
          { event: 'data', version: snap.stat.version, data: text },
          `data v${snap.stat.version}: ${text}`,
        );
      }
    }
  };
  let childrenSeen: string | undefined;
  const children = async () => {
    for await (const snap of ctx.client.watchChildren(path, { signal })) {
      if (snap === null) continue;
      const key = `${snap.stat.czxid}:${snap.stat.pzxid}`;
      if (key === childrenSeen) continue;
      childrenSeen = key;
      const names = [...snap.children].sort();
      emit(
        { event: 'children', children: names },
        `children (${names.length})${names.length === 0 ? '' : `: ${names.join(' ')}`}`,
      );
    }
  };
  try {
    await Promise.all([data(), children()]);
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return ExitCode.found;
}

// ---- output -------------------------------------------------------------------------------

function notFound(ctx: Context, path: string): number {
  if (ctx.json) printJson(ctx, { path, found: false });
  ctx.io.stderr.write(`zkit: ${path} does not exist\n`);
  return ExitCode.notFound;
}

function printJson(ctx: Context, value: unknown): number {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  return ExitCode.found;
}

function statJson(stat: Stat): Record<string, string | number> {
  return {
    czxid: String(stat.czxid),
    mzxid: String(stat.mzxid),
    pzxid: String(stat.pzxid),
    ctime: new Date(stat.ctime).toISOString(),
    mtime: new Date(stat.mtime).toISOString(),
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    ephemeralOwner: stat.ephemeralOwner,
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
  };
}

const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/**
 * On a terminal: aligned columns under a bold header. Elsewhere: the same rows separated by tabs,
 * no colour, for `cut` and `awk`.
 */
function printTable(ctx: Context, header: readonly string[], rows: readonly string[][]): void {
  const out = ctx.io.stdout;
  if (out.isTTY !== true) {
    for (const row of [header, ...rows]) out.write(`${row.join('\t')}\n`);
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
  out.write(`${BOLD}${line(header)}${RESET}\n`);
  for (const row of rows) out.write(`${line(row)}\n`);
}
