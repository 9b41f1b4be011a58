import diagnostics from 'node:diagnostics_channel';
import { NoNodeError, join, type OpMessage, type ZkClient } from '@zkit/core';
import { fourLetterWord } from '@zkit/testing';
import type { Cache, CacheChange } from '../src/index.js';

/** The tree under `path` as `path → data` (UTF-8), read node by node: the server's truth. */
export async function serverTree(
  client: ZkClient,
  path: string,
  depth = Number.POSITIVE_INFINITY,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (at: string, level: number): Promise<void> => {
    try {
      const { data } = await client.get(at);
      out.set(at, data.toString('utf8'));
      if (level >= depth) return;
      const names = await client.getChildren(at);
      await Promise.all(names.map((name) => visit(join(at, name), level + 1)));
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  };
  await visit(path, 0);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The cache's view as `path → data` (UTF-8). */
export function cacheTree(cache: Cache): Map<string, string> {
  return new Map(cache.nodes().map((n) => [n.path, n.data?.toString('utf8') ?? '']));
}

/** Records every change of a cache as a short line, and checks that no node's zxids go back. */
export class ChangeLog {
  readonly lines: string[] = [];
  readonly changes: CacheChange[] = [];
  /** Changes that reported a node state older than one reported before for the same path. */
  readonly backwards: string[] = [];
  readonly #last = new Map<string, { czxid: bigint; mzxid: bigint }>();

  constructor(cache: Cache) {
    cache.on('change', (change) => {
      this.changes.push(change);
      this.lines.push(describe(change));
      if (change.type === 'added' || change.type === 'updated') {
        const { czxid, mzxid } = change.node.stat;
        const last = this.#last.get(change.path);
        if (last && (czxid < last.czxid || (czxid === last.czxid && mzxid <= last.mzxid))) {
          this.backwards.push(describe(change));
        }
        this.#last.set(change.path, { czxid, mzxid });
      }
    });
  }

  /** Forgets the lines recorded so far (the zxid record stays). */
  clear(): void {
    this.lines.length = 0;
    this.changes.length = 0;
  }
}

export function describe(change: CacheChange): string {
  switch (change.type) {
    case 'added':
    case 'updated':
      return `${change.type} ${change.path}=${change.node.data?.toString('utf8') ?? '-'}`;
    case 'removed':
      return `removed ${change.path}`;
    default:
      return change.type;
  }
}

/** Records the requests clients make (core's `zkit:op` channel) while subscribed. */
export class OpLog {
  readonly ops: { op: string; path: string }[] = [];
  readonly #client: ZkClient;
  readonly #listener = (message: unknown) => {
    const m = message as OpMessage;
    if (m.client === this.#client) this.ops.push({ op: m.op, path: m.path });
  };

  constructor(client: ZkClient) {
    this.#client = client;
    diagnostics.subscribe('zkit:op', this.#listener);
  }

  close(): void {
    diagnostics.unsubscribe('zkit:op', this.#listener);
  }
}

/** The paths the server holds watches on for one session (`wchc`). */
export async function sessionWatches(connectString: string, sessionId: string): Promise<string[]> {
  const text = await fourLetterWord(connectString, 'wchc');
  const out: string[] = [];
  let mine = false;
  const id = BigInt(`0x${sessionId}`);
  for (const line of text.split('\n')) {
    if (line.startsWith('0x')) mine = BigInt(line.trim()) === id;
    else if (mine && line.trim() !== '') out.push(line.trim());
  }
  return out;
}
