/**
 * `zkit top PATH`: every recipe found under a path, kept current by one persistent recursive
 * watch (`TreeCache`), shown full-screen on a terminal, as a stream of snapshots elsewhere.
 *
 * Recipes are recognised by the recipes' own helpers (`looksLikeLock`, `looksLikeLatch`,
 * `looksLikeQueue`, `looksLikeDoubleBarrier`, `looksLikeServiceInstance`) over the cached tree,
 * and read by their own inspection functions, so the CLI knows no znode layout of its own. After
 * a change only the recipes whose subtree it touched are read again.
 *
 * @module
 */
import type { ZkClient } from '@zkit/core';
import { TreeCache } from '@zkit/cache';
import type { CliIo } from './cli.js';
import { Recipes } from './top-recipes.js';
import { toJson, toLines, type Snapshot } from './top-render.js';

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

/** Redraws come at most this often, however fast the tree changes. */
const COALESCE_MS = 100;
/** After a failed read, the recipe is read again this much later. */
const RETRY_MS = 1000;

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
