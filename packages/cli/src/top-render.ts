/**
 * What `zkit top` prints of a view: text (a header, then one section per recipe) and JSON (the
 * schema in docs/cli.md).
 *
 * @module
 */
import { formatAge } from './format.js';
import type { FencingTokenBounds } from '@zkit/lock';
import { COUNTS, recipeOf, type Party, type Section } from './top-recipes.js';

/** One view: the recipes under `path` at one moment. */
export interface Snapshot {
  readonly server: string;
  readonly path: string;
  readonly exists: boolean;
  readonly sections: readonly Section[];
}

function counts(sections: readonly Section[]): Record<string, number> {
  return Object.fromEntries(
    COUNTS.map(([recipe, plural]) => [
      plural,
      sections.filter((s) => recipeOf(s.kind) === recipe).length,
    ]),
  );
}

const age = (now: number, ctime: number) => ({
  created: new Date(ctime).toISOString(),
  ageMs: Math.max(0, now - ctime),
});

/** The JSON document of one snapshot (schema: docs/cli.md). */
export function toJson(snapshot: Snapshot, now: number): Record<string, unknown> {
  const party = (p: Party) => ({ name: p.name, sessionId: p.sessionId, ...age(now, p.ctime) });
  // The fields and their order of `zkit lock --json` and `zkit leader --json`.
  const line = (p: Party) => ({ sessionId: p.sessionId, ...age(now, p.ctime), name: p.name });
  const lockNode = (n: Party & { readonly data: string }) => {
    const { sessionId, ...rest } = line(n);
    return { sessionId, data: n.data, ...rest };
  };
  const token = (t: FencingTokenBounds | null) => t && { min: String(t.min), max: String(t.max) };
  const recipes = snapshot.sections.map((s) => {
    const recipe = recipeOf(s.kind);
    switch (s.kind) {
      case 'mutex':
        return {
          recipe,
          path: s.path,
          kind: s.kind,
          held: s.nodes.length > 0,
          fencingToken: token(s.fencingToken),
          nodes: s.nodes.map((n) => ({ role: n.role, ...lockNode(n) })),
        };
      case 'readWrite':
        return {
          recipe,
          path: s.path,
          kind: s.kind,
          held: s.nodes.length > 0,
          nodes: s.nodes.map((n) => ({
            role: n.role,
            mode: n.mode,
            ...lockNode(n),
            fencingToken: token(n.fencingToken),
          })),
        };
      case 'semaphore':
        return {
          recipe,
          path: s.path,
          kind: s.kind,
          permits: s.permits,
          inUse: s.leases.length,
          leases: s.leases.map((n) => ({ ...lockNode(n), fencingToken: token(n.fencingToken) })),
          waiters: s.waiters.map(lockNode),
        };
      case 'election':
        return {
          recipe,
          path: s.path,
          layout: s.layout,
          participants: s.participants.map((p) => ({ id: p.id, leader: p.leader, ...line(p) })),
        };
      case 'queue':
        return {
          recipe,
          path: s.path,
          lockPath: s.lockPath,
          depth: s.depth,
          oldest: s.oldest && { name: s.oldest.name, ...age(now, s.oldest.ctime) },
          claimed: s.claimed.map(party),
        };
      case 'barrier':
        return {
          recipe,
          path: s.path,
          up: s.up,
          ready: s.ready,
          members: s.members.map(party),
        };
      case 'services':
        return {
          recipe,
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

/** `8` when exact, `8..9` when only bounds are known. */
const tokenText = (t: FencingTokenBounds) => (t.min === t.max ? `${t.min}` : `${t.min}..${t.max}`);

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
export function toLines(snapshot: Snapshot, now: number): string[] {
  const { sections } = snapshot;
  const time = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const lines = [`zkit top ${snapshot.path}  ${snapshot.server}  ${time}`];
  if (!snapshot.exists) return [...lines, `${snapshot.path} does not exist`];
  const found = COUNTS.map(
    ([recipe, , one]) => [sections.filter((s) => recipeOf(s.kind) === recipe).length, one] as const,
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
      case 'mutex': {
        const waiters = Math.max(0, s.nodes.length - 1);
        lines.push(
          s.fencingToken === null
            ? `lock ${s.path}: not held`
            : `lock ${s.path}: held, ${plural(waiters, 'waiter')}, fencing token ${tokenText(s.fencingToken)}`,
          ...columns(s.nodes.map((n) => [n.role, n.data || '-', n.sessionId, ago(n.ctime)])),
        );
        break;
      }
      case 'readWrite': {
        const holders = s.nodes.filter((n) => n.role === 'holder');
        const waiting = s.nodes.length - holders.length;
        const state =
          holders.length === 0
            ? 'not held'
            : holders[0]?.mode === 'write'
              ? 'write-locked'
              : `read-locked by ${plural(holders.length, 'reader')}`;
        lines.push(
          `lock ${s.path}: read-write, ${state}, ${waiting} waiting`,
          ...columns(
            s.nodes.map((n) => [
              n.role,
              n.mode,
              n.data || '-',
              n.sessionId,
              ago(n.ctime),
              n.fencingToken === null ? '-' : `token ${tokenText(n.fencingToken)}`,
            ]),
          ),
        );
        break;
      }
      case 'semaphore':
        lines.push(
          `lock ${s.path}: semaphore, ${s.leases.length}` +
            (s.permits === null ? '' : ` of ${s.permits}`) +
            ` in use, ${s.waiters.length} waiting`,
          ...columns([
            ...s.leases.map((n) => [
              'lease',
              n.data || '-',
              n.sessionId,
              ago(n.ctime),
              `token ${tokenText(n.fencingToken)}`,
            ]),
            ...s.waiters.map((n) => ['waiter', n.data || '-', n.sessionId, ago(n.ctime), '-']),
          ]),
        );
        break;
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
