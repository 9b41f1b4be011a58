/**
 * `zkit top PATH`: every recipe found under a path, kept current by one persistent recursive
 * watch (`TreeCache`), shown full-screen on a terminal, as a stream of snapshots elsewhere.
 *
 * Recipes are recognised by the recipes' own helpers (`looksLikeMutex`, `looksLikeLatch`,
 * `looksLikeQueue`, `looksLikeDoubleBarrier`, `looksLikeServiceInstance`) over the cached tree,
 * and read by their own inspection functions, so the CLI knows no znode layout of its own. After
 * a change only the recipes whose subtree it touched are read again.
 *
 * @module
 */
import { basename, parent, type ZkClient } from '@zkit/core';
import { TreeCache, type CacheChange } from '@zkit/cache';
import { inspectBarrier, looksLikeDoubleBarrier } from '@zkit/barrier';
import { inspectElection, looksLikeLatch } from '@zkit/election';
import { inspectLock, looksLikeMutex } from '@zkit/lock';
import { inspectQueue, looksLikeQueue } from '@zkit/queue';
import { ServiceRegistry, looksLikeServiceInstance } from '@zkit/registry';
import type { CliIo } from './cli.js';
import { formatAge } from './format.js';

/**
 * The keyboard {@link main} reads in `zkit top`'s full-screen view (`process.stdin` is one): `q`
 * or Ctrl-C ends it.
 */
export interface CliInput {
  /** Whether it is a terminal: keys are read only then. */
  readonly isTTY?: boolean | undefined;
  /** Switches the terminal to raw mode (each key at once, Ctrl-C as a key) and back. */
  setRawMode?(raw: boolean): unknown;
  /** Starts reading. */
  resume(): unknown;
  /** Stops reading, so the process can exit. */
  pause(): unknown;
  /** Adds a listener of what is typed. */
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  /** Removes a listener added with `on`. */
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
}

/** What `zkit top` needs from the command line. @internal */
export interface TopRun {
  readonly client: ZkClient;
  readonly server: string;
  readonly path: string;
  readonly json: boolean;
  readonly once: boolean;
  readonly io: CliIo;
}

type Kind = 'lock' | 'election' | 'queue' | 'barrier' | 'services';

/** Plural names of the kinds, in the order sections are counted. */
const COUNTS: readonly (readonly [Kind, string, string])[] = [
  ['lock', 'locks', 'lock'],
  ['election', 'elections', 'election'],
  ['queue', 'queues', 'queue'],
  ['barrier', 'barriers', 'barrier'],
  ['services', 'services', 'service base'],
];

/** Who is in a recipe, with the creation time (ms, the server's clock) ages are measured from. */
interface Party {
  readonly name: string;
  readonly sessionId: string;
  readonly ctime: number;
}

type Section =
  | {
      readonly kind: 'lock';
      readonly path: string;
      readonly fencingToken: { readonly min: bigint; readonly max: bigint } | null;
      readonly nodes: readonly (Party & { readonly role: string; readonly data: string })[];
    }
  | {
      readonly kind: 'election';
      readonly path: string;
      readonly layout: string | null;
      readonly participants: readonly (Party & { readonly id: string; readonly leader: boolean })[];
    }
  | {
      readonly kind: 'queue';
      readonly path: string;
      readonly lockPath: string;
      readonly depth: number;
      readonly oldest: { readonly name: string; readonly ctime: number } | null;
      readonly claimed: readonly Party[];
    }
  | {
      readonly kind: 'barrier';
      readonly path: string;
      readonly up: boolean;
      readonly ready: boolean;
      readonly members: readonly Party[];
    }
  | {
      readonly kind: 'services';
      readonly path: string;
      readonly services: readonly {
        readonly name: string;
        readonly instances: readonly {
          readonly id: string;
          readonly address: string | null;
          readonly port: number | null;
          readonly sslPort: number | null;
          readonly serviceType: string;
          readonly registered: number;
          readonly payload: unknown;
        }[];
      }[];
      readonly malformed: readonly string[];
    };

/** Redraws come at most this often, however fast the tree changes. */
const COALESCE_MS = 100;
/** After a failed read, the recipe is read again this much later. */
const RETRY_MS = 1000;

const within = (path: string, root: string) =>
  path === root || path.startsWith(root === '/' ? '/' : `${root}/`);

/**
 * Where each recipe under `root` is, from the cached tree alone (no request): a node whose
 * children look like a recipe's nodes is that recipe; a service base is the grandparent of a
 * node that looks like a service instance.
 */
function recognise(cache: TreeCache, root: string): Map<string, Kind> {
  const found = new Map<string, Kind>();
  for (const node of cache.nodes()) {
    if (node.data !== undefined && node.path !== '/' && parent(node.path) !== '/') {
      const base = parent(parent(node.path));
      if (within(base, root) && looksLikeServiceInstance(basename(node.path), node.data)) {
        found.set(base, 'services');
      }
    }
    const children = cache.children(node.path).map((c) => basename(c.path));
    if (children.length === 0 || found.has(node.path)) continue;
    const kind: Kind | undefined = looksLikeMutex(children)
      ? 'lock'
      : looksLikeLatch(children)
        ? 'election'
        : looksLikeQueue(children)
          ? 'queue'
          : looksLikeDoubleBarrier(children)
            ? 'barrier'
            : undefined;
    if (kind !== undefined) found.set(node.path, kind);
  }
  return found;
}

/** Reads one recipe through its own inspection function; `null` when it is gone. */
async function inspect(client: ZkClient, kind: Kind, path: string): Promise<Section | null> {
  switch (kind) {
    case 'lock': {
      const lock = await inspectLock(client, path);
      return (
        lock && {
          kind,
          path,
          fencingToken: lock.fencingToken,
          nodes: lock.nodes.map((n) => ({
            role: n.role,
            name: n.name,
            sessionId: n.sessionId,
            ctime: n.ctime,
            data: n.data.toString('utf8'),
          })),
        }
      );
    }
    case 'election': {
      const election = await inspectElection(client, path);
      return (
        election && {
          kind,
          path,
          layout: election.layout,
          participants: election.participants.map((p) => ({
            id: p.id,
            leader: p.isLeader,
            name: p.name,
            sessionId: p.sessionId,
            ctime: p.ctime,
          })),
        }
      );
    }
    case 'queue': {
      const queue = await inspectQueue(client, path);
      return (
        queue && {
          kind,
          path,
          lockPath: queue.lockPath,
          depth: queue.depth,
          oldest: queue.oldest,
          claimed: queue.claimed.map((c) => ({ ...c })),
        }
      );
    }
    case 'barrier': {
      const barrier = await inspectBarrier(client, path);
      return barrier.up
        ? { kind, path, up: true, ready: barrier.ready, members: barrier.members.map((m) => m) }
        : null;
    }
    case 'services': {
      // Only reads: a registry that registers nothing, closed (listeners removed) when done.
      const registry = new ServiceRegistry(client, { basePath: path });
      const malformed: string[] = [];
      registry.on('quarantined', (error) => malformed.push(`${error.path}: ${error.message}`));
      try {
        const names = await registry.names();
        const services = await Promise.all(
          names.map(async (name) => ({
            name,
            instances: (await registry.instances(name)).map((i) => ({
              id: i.id,
              address: i.address,
              port: i.port,
              sslPort: i.sslPort,
              serviceType: i.serviceType,
              registered: i.registrationTimeUTC,
              payload: i.payload,
            })),
          })),
        );
        return { kind, path, services, malformed };
      } finally {
        await registry.close();
      }
    }
  }
}

/**
 * The recipes under one path, read again where the tree changed. `update` is never run twice at
 * once; the sections are sorted by path.
 */
class Recipes {
  readonly #sections = new Map<string, Section>();
  /** Paths changed since the last update; `all` after a new session. */
  #changed = new Set<string>();
  #all = true;

  constructor(
    private readonly client: ZkClient,
    private readonly cache: TreeCache,
    private readonly root: string,
  ) {}

  note(change: CacheChange): void {
    if (change.type === 'reset') this.#all = true;
    else if (change.type !== 'initialized') this.#changed.add(change.path);
  }

  get pending(): boolean {
    return this.#all || this.#changed.size > 0;
  }

  /**
   * Reads again what the changes noted since the last update touched; resolves `false` when a
   * read failed (it is noted again, to be retried).
   */
  async update(): Promise<boolean> {
    const changed = [...this.#changed];
    const all = this.#all;
    this.#changed = new Set();
    this.#all = false;
    const found = recognise(this.cache, this.root);
    for (const path of this.#sections.keys()) if (!found.has(path)) this.#sections.delete(path);
    const touched = [...found].filter(([path, kind]) => {
      const before = this.#sections.get(path);
      if (all || before === undefined || before.kind !== kind) return true;
      return changed.some(
        (c) => within(c, path) || (before.kind === 'queue' && within(c, before.lockPath)),
      );
    });
    const read = await Promise.all(
      touched.map(async ([path, kind]) => {
        try {
          const section = await inspect(this.client, kind, path);
          if (section === null) this.#sections.delete(path);
          else this.#sections.set(path, section);
          return true;
        } catch {
          // The connection, most likely: keep what was shown and read it again later.
          this.#changed.add(path);
          return false;
        }
      }),
    );
    return read.every(Boolean);
  }

  /** The sections, without a queue's claims node (claims look like items). */
  sections(): Section[] {
    const claims = new Set(
      [...this.#sections.values()].flatMap((s) => (s.kind === 'queue' ? [s.lockPath] : [])),
    );
    return [...this.#sections.values()]
      .filter((s) => !(s.kind === 'queue' && claims.has(s.path)))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

// ---- output -------------------------------------------------------------------------------

interface Snapshot {
  readonly server: string;
  readonly path: string;
  readonly exists: boolean;
  readonly sections: readonly Section[];
}

function counts(sections: readonly Section[]): Record<string, number> {
  return Object.fromEntries(
    COUNTS.map(([kind, plural]) => [plural, sections.filter((s) => s.kind === kind).length]),
  );
}

const age = (now: number, ctime: number) => ({
  created: new Date(ctime).toISOString(),
  ageMs: Math.max(0, now - ctime),
});

/** The JSON document of one snapshot (schema: docs/cli.md). */
function toJson(snapshot: Snapshot, now: number): Record<string, unknown> {
  const party = (p: Party) => ({ name: p.name, sessionId: p.sessionId, ...age(now, p.ctime) });
  // The fields and their order of `zkit lock --json` and `zkit leader --json`.
  const line = (p: Party) => ({ sessionId: p.sessionId, ...age(now, p.ctime), name: p.name });
  const recipes = snapshot.sections.map((s) => {
    switch (s.kind) {
      case 'lock':
        return {
          kind: s.kind,
          path: s.path,
          held: s.nodes.length > 0,
          fencingToken: s.fencingToken && {
            min: String(s.fencingToken.min),
            max: String(s.fencingToken.max),
          },
          nodes: s.nodes.map((n) => {
            const { sessionId, ...rest } = line(n);
            return { role: n.role, sessionId, data: n.data, ...rest };
          }),
        };
      case 'election':
        return {
          kind: s.kind,
          path: s.path,
          layout: s.layout,
          participants: s.participants.map((p) => ({ id: p.id, leader: p.leader, ...line(p) })),
        };
      case 'queue':
        return {
          kind: s.kind,
          path: s.path,
          lockPath: s.lockPath,
          depth: s.depth,
          oldest: s.oldest && { name: s.oldest.name, ...age(now, s.oldest.ctime) },
          claimed: s.claimed.map(party),
        };
      case 'barrier':
        return {
          kind: s.kind,
          path: s.path,
          up: s.up,
          ready: s.ready,
          members: s.members.map(party),
        };
      case 'services':
        return {
          kind: s.kind,
          path: s.path,
          services: s.services.map((svc) => ({
            name: svc.name,
            instances: svc.instances.map((i) => ({
              id: i.id,
              address: i.address,
              port: i.port,
              sslPort: i.sslPort,
              serviceType: i.serviceType,
              registered: new Date(i.registered).toISOString(),
              ageMs: Math.max(0, now - i.registered),
              payload: i.payload,
            })),
          })),
          malformed: s.malformed,
        };
    }
  });
  return {
    time: new Date(now).toISOString(),
    server: snapshot.server,
    path: snapshot.path,
    exists: snapshot.exists,
    counts: counts(snapshot.sections),
    recipes,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Rows as columns two spaces apart, indented by two; the last column is not padded. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`,
  );
}

/** The text of one snapshot: a header of two lines, then one section per recipe. */
function toLines(snapshot: Snapshot, now: number): string[] {
  const { sections } = snapshot;
  const time = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const lines = [`zkit top ${snapshot.path}  ${snapshot.server}  ${time}`];
  if (!snapshot.exists) return [...lines, `${snapshot.path} does not exist`];
  const found = COUNTS.map(
    ([kind, , one]) => [sections.filter((s) => s.kind === kind).length, one] as const,
  )
    .filter(([n]) => n > 0)
    .map(([n, one]) => plural(n, one, one === 'service base' ? 'service bases' : `${one}s`));
  lines.push(
    sections.length === 0
      ? 'no recipes found'
      : `${plural(sections.length, 'recipe')}: ${found.join(', ')}`,
  );
  const ago = (ctime: number) => formatAge(Math.max(0, now - ctime));
  for (const s of sections) {
    lines.push('');
    switch (s.kind) {
      case 'lock': {
        const token = s.fencingToken;
        const waiters = Math.max(0, s.nodes.length - 1);
        lines.push(
          token === null
            ? `lock ${s.path}: not held`
            : `lock ${s.path}: held, ${plural(waiters, 'waiter')}, fencing token ` +
                (token.min === token.max ? `${token.min}` : `${token.min}..${token.max}`),
          ...columns(s.nodes.map((n) => [n.role, n.data || '-', n.sessionId, ago(n.ctime)])),
        );
        break;
      }
      case 'election': {
        const leader = s.participants.find((p) => p.leader);
        lines.push(
          `election ${s.path}: ` +
            (leader === undefined
              ? 'no participants'
              : `leader ${leader.id || '(no id)'}, ${plural(s.participants.length - 1, 'follower')}`),
          ...columns(
            s.participants.map((p) => [
              p.leader ? 'leader' : 'follower',
              p.id || '-',
              p.sessionId,
              ago(p.ctime),
            ]),
          ),
        );
        break;
      }
      case 'queue':
        lines.push(
          `queue ${s.path}: ${plural(s.depth, 'item')}` +
            (s.oldest === null ? '' : `, oldest ${ago(s.oldest.ctime)} (${s.oldest.name})`) +
            `, ${s.claimed.length} claimed`,
          ...columns(s.claimed.map((c) => ['claimed', c.name, c.sessionId, ago(c.ctime)])),
        );
        break;
      case 'barrier':
        lines.push(
          `barrier ${s.path}: up, ${s.members.length} entered` +
            (s.ready ? ', ready (everybody came)' : ''),
          ...columns(s.members.map((m) => ['member', m.name, m.sessionId, ago(m.ctime)])),
        );
        break;
      case 'services': {
        const count = s.services.reduce((n, svc) => n + svc.instances.length, 0);
        lines.push(
          `services ${s.path}: ${plural(s.services.length, 'service')}, ${plural(count, 'instance')}`,
          ...columns(
            s.services.flatMap((svc) =>
              svc.instances.map((i) => [
                svc.name,
                i.id,
                `${i.address ?? '-'}:${i.port ?? '-'}`,
                ago(i.registered),
              ]),
            ),
          ),
          ...s.malformed.map((m) => `  malformed: ${m}`),
        );
        break;
      }
    }
  }
  return lines;
}

// ---- the command --------------------------------------------------------------------------

const ESC = '\u001b[';
const ALT_SCREEN_ON = `${ESC}?1049h${ESC}?25l`;
const ALT_SCREEN_OFF = `${ESC}?25h${ESC}?1049l`;
const HOME = `${ESC}H`;
const CLEAR_LINE = `${ESC}K`;
const CLEAR_BELOW = `${ESC}J`;
const BOLD = `${ESC}1m`;
const RESET = `${ESC}0m`;
const CTRL_C = '\u0003';

/**
 * Runs `zkit top`: with `once`, prints the current view and resolves `0` (`1` when the path does
 * not exist); otherwise runs until `q`, Ctrl-C or the signal, then resolves `0`.
 *
 * @internal
 */
export async function topCommand(run: TopRun): Promise<number> {
  const { client, io, path } = run;
  const clock = io.now ?? Date.now;
  const cache = new TreeCache(client, path);
  const recipes = new Recipes(client, cache, path);
  cache.on('change', (change) => recipes.note(change));
  try {
    await cache.start();
    await recipes.update();
    const snapshot = (): Snapshot => ({
      server: run.server,
      path,
      exists: cache.get(path) !== undefined,
      sections: recipes.sections(),
    });
    if (run.once) {
      const now = clock();
      const first = snapshot();
      if (run.json) io.stdout.write(`${JSON.stringify(toJson(first, now), null, 2)}\n`);
      else if (first.exists) io.stdout.write(`${toLines(first, now).join('\n')}\n`);
      if (first.exists) return 0;
      io.stderr.write(`zkit: ${path} does not exist\n`);
      return 1;
    }
    const screen = io.stdout.isTTY === true && !run.json;
    return await live(cache, recipes, snapshot, run, screen ? drawScreen(io) : printSnapshots(run));
  } finally {
    await cache.close();
  }
}

/** How the live view shows a snapshot; `tick` is the ages' once-a-second redraw, if any. */
interface Output {
  show(snapshot: Snapshot, now: number): void;
  readonly tick: boolean;
  open(stop: () => void): void;
  close(): void;
}

/** Streams: one snapshot per change, a blank line between (text), or one JSON line each. */
function printSnapshots(run: TopRun): Output {
  let last: string | undefined;
  return {
    tick: false,
    show(snapshot, now) {
      // Ages are not a change: only what the recipes hold is.
      const key = JSON.stringify(snapshot, (_, v: unknown) =>
        typeof v === 'bigint' ? String(v) : v,
      );
      if (key === last) return;
      const first = last === undefined;
      last = key;
      if (run.json) run.io.stdout.write(`${JSON.stringify(toJson(snapshot, now))}\n`);
      else run.io.stdout.write(`${first ? '' : '\n'}${toLines(snapshot, now).join('\n')}\n`);
    },
    open() {},
    close() {},
  };
}

/** A terminal: the alternate screen, redrawn in place; `q` or Ctrl-C ends it. */
function drawScreen(io: CliIo): Output {
  const out = io.stdout;
  const input = io.stdin?.isTTY === true ? io.stdin : undefined;
  let onKey: ((chunk: Buffer | string) => void) | undefined;
  return {
    tick: true,
    show(snapshot, now) {
      const width = Math.max(20, out.columns ?? 80);
      const height = Math.max(3, out.rows ?? 24);
      const lines = toLines(snapshot, now);
      lines.splice(1, 0, '(q to quit)');
      if (lines.length > height) {
        const hidden = lines.length - height + 1;
        lines.splice(height - 1, hidden, `… ${hidden} more lines`);
      }
      const fitted = lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
      const header = `${BOLD}${fitted[0] ?? ''}${RESET}`;
      out.write(
        `${HOME}${[header, ...fitted.slice(1)].map((l) => `${l}${CLEAR_LINE}`).join('\r\n')}${CLEAR_BELOW}`,
      );
    },
    open(stop) {
      out.write(ALT_SCREEN_ON);
      if (input === undefined) return;
      onKey = (chunk) => {
        const keys = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        if (keys.includes('q') || keys.includes('Q') || keys.includes(CTRL_C)) stop();
      };
      input.setRawMode?.(true);
      input.on('data', onKey);
      input.resume();
    },
    close() {
      if (input !== undefined && onKey !== undefined) {
        input.off('data', onKey);
        input.setRawMode?.(false);
        input.pause();
      }
      out.write(ALT_SCREEN_OFF);
    },
  };
}

/** The live loop: redraws after changes (at most once per {@link COALESCE_MS}), until stopped. */
async function live(
  cache: TreeCache,
  recipes: Recipes,
  snapshot: () => Snapshot,
  run: TopRun,
  output: Output,
): Promise<number> {
  const clock = run.io.now ?? Date.now;
  let done = false;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const signal = run.io.signal;
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted === true) stop();
  cache.on('closed', stop);

  let timer: NodeJS.Timeout | undefined;
  let updating: Promise<void> | undefined;
  const schedule = (delay = COALESCE_MS) => {
    if (done || timer !== undefined || updating !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      updating = recipes.update().then(
        (ok) => {
          updating = undefined;
          if (done) return;
          output.show(snapshot(), clock());
          if (recipes.pending) schedule(ok ? COALESCE_MS : RETRY_MS);
        },
        () => {
          updating = undefined;
          schedule(RETRY_MS);
        },
      );
    }, delay);
  };
  const onChange = () => schedule();
  cache.on('change', onChange);
  // Changes noted between the first read and now.
  if (recipes.pending) schedule();
  output.open(stop);
  const ticker = output.tick
    ? setInterval(() => output.show(snapshot(), clock()), 1000)
    : undefined;
  try {
    output.show(snapshot(), clock());
    await stopped;
    return 0;
  } finally {
    done = true;
    signal?.removeEventListener('abort', stop);
    cache.off('change', onChange);
    cache.off('closed', stop);
    clearInterval(ticker);
    clearTimeout(timer);
    await updating;
    output.close();
  }
}
