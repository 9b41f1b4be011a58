import { NoNodeError, type ZkClient } from '@zkit/core';
import { waitFor, ZooKeeperEnsemble, type FaultProxy } from '@zkit/testing';
import type { Random } from './random.js';

/**
 * Session timeout of every recipe client in the chaos runs. At least 3 s, so a client survives
 * the event-loop stall of a twin handle's close; short enough that expiries come quickly.
 */
export const SESSION_TIMEOUT = 4000;

/**
 * tickTime of the chaos ensemble. The server checks session expiry once per tick, so a short tick
 * makes expiry land close to the session timeout; the quorum limits are sized in ticks by the
 * ensemble itself (about 10 s to sync, 2 s of lag).
 */
export const TICK_TIME = 200;

/** A three-server ensemble for one chaos run. */
export function startEnsemble(): Promise<ZooKeeperEnsemble> {
  return ZooKeeperEnsemble.start({ size: 3, tickTime: TICK_TIME });
}

/** Index of the member whose `mntr` reports `zk_server_state` leader (waits out an election). */
export async function leaderByMntr(ensemble: ZooKeeperEnsemble): Promise<number> {
  const position = await waitFor(
    async () => {
      const states = await Promise.all(
        ensemble.servers.map(async (server) =>
          server.state === 'running'
            ? (await server.mntr().catch(() => undefined))?.['zk_server_state']
            : undefined,
        ),
      );
      return states.indexOf('leader') + 1;
    },
    { timeout: 20_000, interval: 50, message: "a member's mntr to report zk_server_state leader" },
  );
  return position - 1;
}

/**
 * Sessions connected to any running member, from the `cons` four-letter word of each (`sid=0x…`),
 * as `Stat.ephemeralOwner` prints them (hex, no prefix).
 */
export async function connectedSessions(ensemble: ZooKeeperEnsemble): Promise<Set<string>> {
  const sessions = new Set<string>();
  for (const server of ensemble.servers) {
    if (server.state !== 'running') continue;
    const text = await server.fourLetter('cons').catch(() => '');
    for (const match of text.matchAll(/sid=0x([0-9a-f]+)/gi)) {
      sessions.add(BigInt(`0x${match[1] ?? '0'}`).toString(16));
    }
  }
  return sessions;
}

/** One ephemeral node found under a recipe path. */
export interface EphemeralNode {
  readonly path: string;
  readonly owner: string;
}

/** Every ephemeral node under `root` (none when `root` does not exist). */
export async function ephemeralNodes(client: ZkClient, root: string): Promise<EphemeralNode[]> {
  const found: EphemeralNode[] = [];
  const visit = async (path: string): Promise<void> => {
    let children: string[];
    try {
      const stat = await client.exists(path);
      if (stat === null) return;
      if (stat.ephemeralOwner !== '0') {
        found.push({ path, owner: BigInt(`0x${stat.ephemeralOwner}`).toString(16) });
        return;
      }
      children = await client.getChildren(path);
    } catch (error) {
      if (error instanceof NoNodeError) return;
      throw error;
    }
    await Promise.all(children.map((child) => visit(`${path === '/' ? '' : path}/${child}`)));
  };
  await visit(root);
  return found;
}

/**
 * Ephemeral nodes under `root` whose owner is not a session connected to the ensemble (the node
 * of a dead session, or of a session nobody uses any more), after waiting up to `timeout` ms for
 * the server to expire sessions that died during the run. Resolves with what is left.
 */
export async function orphansAfter(
  ensemble: ZooKeeperEnsemble,
  client: ZkClient,
  root: string,
  timeout: number,
): Promise<EphemeralNode[]> {
  let left: EphemeralNode[] = [];
  try {
    await waitFor(
      async () => {
        const sessions = await connectedSessions(ensemble);
        left = (await ephemeralNodes(client, root)).filter((node) => !sessions.has(node.owner));
        return left.length === 0;
      },
      { timeout, interval: 200, message: `no ephemeral node of a dead session under ${root}` },
    );
  } catch {
    // `left` says what stayed.
  }
  return left;
}

/**
 * The ephemeral nodes still under any of `roots` after waiting up to `timeout` ms for all of
 * them to go (the recipes were closed or stopped): none, unless something was left behind.
 */
export async function leftoversAfter(
  client: ZkClient,
  roots: readonly string[],
  what: string,
  timeout = 10_000,
): Promise<EphemeralNode[]> {
  let left: EphemeralNode[] = [];
  await waitFor(
    async () => {
      left = (await Promise.all(roots.map((root) => ephemeralNodes(client, root)))).flat();
      return left.length === 0;
    },
    { timeout, message: `every ${what} to be removed` },
  ).catch(() => undefined);
  return left;
}

/** How long the system took to satisfy a condition after one fault, and whether in bound. */
export interface Recovery {
  readonly fault: string;
  readonly ms: number;
  readonly ok: boolean;
}

/**
 * Waits (up to three bounds) for `condition` after the fault in `record` ended, and measures
 * from the end of the fault: the heal, the restarted server serving, the expiry reported.
 */
export async function recoveryAfter(
  record: FaultRecord,
  condition: () => boolean | Promise<boolean>,
  boundMs: number,
  options: { interval: number; what: string },
): Promise<Recovery> {
  let ok = true;
  await waitFor(condition, {
    timeout: 3 * boundMs,
    interval: options.interval,
    message: `${options.what} after ${record.kind}`,
  }).catch(() => {
    ok = false;
  });
  const ms = Date.now() - record.endedAt;
  return { fault: `${record.kind} of ${record.target}`, ms, ok: ok && ms <= boundMs };
}

/** Whether `path` is gone (a reaped container), waiting up to `timeout` ms. */
export async function reaped(client: ZkClient, path: string, timeout: number): Promise<boolean> {
  try {
    await waitFor(async () => (await client.exists(path)) === null, {
      timeout,
      interval: 100,
      message: `the container ${path} to be reaped`,
    });
    return true;
  } catch {
    return false;
  }
}

export type FaultKind =
  | 'follower-restart'
  | 'leader-restart'
  | 'partition-long'
  | 'partition-short'
  | 'drop'
  | 'expire'
  | 'crash';

/** One planned fault: what, how long it lasts, and the quiet time after it. */
export interface Fault {
  readonly kind: FaultKind;
  /** Server down time, or partition length, in ms (0 for a drop, an expiry and a crash). */
  readonly holdMs: number;
  /** Load without faults after this one, in ms. */
  readonly gapMs: number;
}

/** A fault as it happened. */
export interface FaultRecord extends Fault {
  readonly target: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * The schedule: every kind in `kinds` once (repeat a kind to have it more often), in an order and
 * with durations drawn from `random`. Long partitions outlast the session timeout; short ones
 * stay under the two thirds of it after which a client gives up its connection.
 */
export function planFaults(random: Random, kinds: readonly FaultKind[]): Fault[] {
  return random.shuffle(kinds).map((kind) => {
    const holdMs =
      kind === 'follower-restart' || kind === 'leader-restart'
        ? random.int(300, 1500)
        : kind === 'partition-long'
          ? SESSION_TIMEOUT + random.int(800, 1800)
          : kind === 'partition-short'
            ? random.int(500, Math.floor((SESSION_TIMEOUT * 2) / 3) - 700)
            : 0;
    return { kind, holdMs, gapMs: random.int(300, 1200) };
  });
}

/** What a scenario offers the schedule to hit. */
export interface FaultTargets {
  /**
   * A client's proxy to partition (or whose connections to drop), and a name for the log. May first wait (bounded) for the
   * target to be in the middle of something, e.g. a critical section.
   */
  partitionTarget(random: Random, fault: Fault): Promise<{ name: string; proxy: FaultProxy }>;
  /** Expires a session (of a current holder/leader where there is one); returns its name. */
  expire(random: Random, fault: Fault): Promise<string>;
  /** Crashes a participant (a process, or a client closed without notice); returns its name. */
  crash?(random: Random, fault: Fault): Promise<string>;
  /** Called once each fault is over (healed, restarted, expired), before the gap. */
  afterFault?(record: FaultRecord): Promise<void>;
}

/** Runs `faults` one after the other against `ensemble` and the scenario's targets. */
export async function runFaults(
  ensemble: ZooKeeperEnsemble,
  faults: readonly Fault[],
  targets: FaultTargets,
  random: Random,
  log: (line: string) => void,
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const fault of faults) {
    let startedAt = Date.now();
    let target: string;
    switch (fault.kind) {
      case 'follower-restart':
      case 'leader-restart': {
        const leader = await leaderByMntr(ensemble);
        const index =
          fault.kind === 'leader-restart'
            ? leader
            : random.pick([0, 1, 2].filter((i) => i !== leader));
        target = `server ${index + 1}`;
        await ensemble.kill(index);
        await pause(fault.holdMs);
        await ensemble.restart(index);
        break;
      }
      case 'partition-long':
      case 'partition-short': {
        const { name, proxy } = await targets.partitionTarget(random, fault);
        startedAt = Date.now();
        target = name;
        proxy.partition();
        await pause(fault.holdMs);
        proxy.heal();
        break;
      }
      case 'drop': {
        // Connections reset at once: the client reconnects on the same session.
        const { name, proxy } = await targets.partitionTarget(random, fault);
        startedAt = Date.now();
        target = name;
        proxy.drop();
        break;
      }
      case 'expire':
        target = await targets.expire(random, fault);
        break;
      case 'crash':
        if (targets.crash === undefined) throw new Error('this scenario cannot crash anything');
        target = await targets.crash(random, fault);
        break;
    }
    const record: FaultRecord = { ...fault, target, startedAt, endedAt: Date.now() };
    records.push(record);
    log(
      `  fault ${records.length}/${faults.length}: ${fault.kind} of ${target}` +
        (fault.holdMs > 0 ? ` for ${fault.holdMs} ms` : '') +
        ` (${record.endedAt - startedAt} ms)`,
    );
    await targets.afterFault?.(record);
    await pause(fault.gapMs);
  }
  return records;
}

/**
 * Waits `ms`. Only for the planned length of a fault or of the quiet time between faults, never
 * as a stand-in for a condition.
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Faults by kind, for the summary. */
export function countByKind(records: readonly FaultRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of FAULT_KINDS) {
    const n = records.filter((record) => record.kind === kind).length;
    if (n > 0) counts[kind] = n;
  }
  return counts;
}

/** Every fault kind, in the order reports list them. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'follower-restart',
  'leader-restart',
  'partition-short',
  'partition-long',
  'drop',
  'expire',
  'crash',
];

/** One row of the summary table: a scenario and its figures. */
export type SummaryRow = Record<string, string | number>;

/**
 * Renders one column per row (scenario) and one line per figure: the keys in `order` first, then
 * the others in first-seen order; `scenario` is the header. Missing figures are shown as `-`.
 */
export function renderTable(rows: readonly SummaryRow[], order: readonly string[] = []): string {
  const keys: string[] = order.filter((key) => rows.some((row) => key in row));
  for (const row of rows) {
    for (const key of Object.keys(row))
      if (key !== 'scenario' && !keys.includes(key)) keys.push(key);
  }
  const table = [
    ['', ...rows.map((row) => String(row['scenario'] ?? ''))],
    ...keys.map((key) => [key, ...rows.map((row) => String(row[key] ?? '-'))]),
  ];
  const widths = (table[0] ?? []).map((_, i) =>
    Math.max(...table.map((line) => (line[i] ?? '').length)),
  );
  const render = (line: readonly string[]): string =>
    line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ');
  const [header, ...body] = table;
  return [
    render(header ?? []),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...body.map(render),
  ].join('\n');
}
