import { hostname } from 'node:os';
import {
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  join,
  lineKey,
  waitSignal,
  type WaitOptions,
  type ZkClient,
} from '@zkit/core';
import { LockDriver, checkLockArgs, type LockRules } from './driver.js';
import { LockLostError } from './errors.js';
import type { Lease } from './lease.js';

/** The marker of kazoo's `Lock` nodes, `<uuid hex>__lock__<seq10>`. */
const KAZOO_LOCK = '__lock__';
/** The child of a lease node that records the current holder (kazoo's name). */
const HOLDER = 'lease_holder';
/** kazoo's storage format version for the holder record. */
const RECORD_VERSION = 1;
const END_FORMAT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/**
 * kazoo's `Lock`: contenders are the children carrying `__lock__<seq10>`, in sequence order; the
 * first holds. zkit's own node, `_c_<uuid>-__lock__<seq10>`, is one of them for kazoo too. The
 * holder record (`lease_holder`) sorts after every sequence number and never blocks anyone.
 */
const kazooLockRules: LockRules = Object.freeze({
  name: KAZOO_LOCK,
  sortKey: (child: string) => lineKey(child, KAZOO_LOCK),
  blocker: (sorted: readonly string[], ourIndex: number) =>
    ourIndex === 0 ? null : (sorted[ourIndex - 1] ?? null),
});

/** Options of {@link PeriodLease} and {@link MultiPeriodLease}. */
export interface PeriodLeaseOptions {
  /**
   * How long a grant reserves the lease, in ms (kazoo's `duration`). The end is stored with
   * second precision, truncated: a grant lasts between `duration − 1000` ms and `duration`.
   */
  readonly duration: number;
  /**
   * Who asks. A holder asking again with the same identifier renews its grant (kazoo's
   * semantics); give every process its own. Default: the host name (kazoo's default).
   */
  readonly identifier?: string;
}

/** What {@link PeriodLease.tryAcquire} resolves with when the lease is ours. */
export interface PeriodGrant {
  /** The holder record's path, `<lease path>/lease_holder`. */
  readonly path: string;
  /** Our identifier, as recorded. */
  readonly holder: string;
  /** When the grant ends (whole seconds, UTC), by the clock of the process that wrote it. */
  readonly end: Date;
}

/** A holder record as kazoo writes it. */
interface HolderRecord {
  readonly holder: string;
  readonly end: number;
}

/**
 * "At most one holder per period", laid out as kazoo's `NonBlockingLease`: a lease that is never
 * waited for and never released, only granted for a duration — the run-this-cron-job-on-one-host
 * recipe. Each attempt takes a short lock (kazoo's `Lock` layout, `<path>/<…>__lock__<seq10>`),
 * reads the record `<path>/lease_holder` (JSON `{"version": 1, "holder": …, "end":
 * "YYYY-MM-DDTHH:MM:SS"}`, UTC), and grants when there is no record, when its end has passed,
 * or when it is the asker's own (a renewal); granting replaces the record with a new end. kazoo
 * 2.8 processes and zkit share one lease in both directions.
 *
 * Clocks: the end is a wall-clock timestamp written by the granting process and compared with
 * the asking process's clock (`Date.now()`), as kazoo compares `utcnow()`. Time zones do not
 * matter (UTC), but skew does: a process whose clock is ahead sees a grant end early and can
 * take the lease while the holder still counts on it. Keep clocks synchronised (NTP), keep the
 * skew well below `duration`, and do not use it for mutual exclusion of work that must never
 * overlap — use a `Mutex` with fencing tokens for that.
 *
 * The record is persistent: a grant outlives the holder's session and process (that is the
 * point: a crashed holder keeps the period). Ownership is not watched; nothing tells a holder
 * that its period ended.
 *
 * @example
 * ```ts
 * const hourly = new PeriodLease(client, '/cron/cleanup', { duration: 70 * 60_000 });
 * if (await hourly.tryAcquire()) await cleanUp(); // other hosts skip this hour
 * ```
 */
export class PeriodLease {
  /** The client the lease borrows (never closed by it). */
  readonly client: ZkClient;
  /** The lease node: the lock's nodes and the holder record are its children. */
  readonly path: string;
  /** Our identifier. */
  readonly identifier: string;
  /** How long a grant lasts, in ms. */
  readonly duration: number;

  /**
   * Local and cheap: nothing is sent until `tryAcquire`.
   *
   * @throws `InvalidPathError` for a malformed path or the root, `InvalidArgumentError` for a
   *   missing client, a duration that is not a positive finite number of ms, an identifier that
   *   is not a non-empty string
   */
  constructor(client: ZkClient, path: string, options: PeriodLeaseOptions) {
    this.path = checkLockArgs(client, path, undefined);
    const checked = checkOptions(options);
    this.client = client;
    this.identifier = checked.identifier;
    this.duration = checked.duration;
  }

  /**
   * Tries for the lease: resolves with the grant when it is ours for the next `duration` ms
   * (newly, or renewed because the record was ours), `null` when another identifier holds an
   * unexpired grant (or the record is in a format this version does not know, as kazoo does).
   *
   * Waits only for the short lock other askers hold while they look at the record (a lock
   * request, a read, a delete and a create). While the connection is suspended requests wait;
   * a session lost while holding the lock ends the attempt with a {@link LockLostError} (or
   * the client's error), the record untouched or already replaced. Rejects
   * with a `ZkTimeoutError` (`name` `'TimeoutError'`) after `timeout` ms, with the signal's
   * reason on abort, with `ClientClosedError` when the client closes, and with the client's
   * request errors when its retry policy gives up.
   *
   * @throws `InvalidArgumentError` synchronously for a bad timeout or signal
   * @example
   * ```ts
   * const grant = await lease.tryAcquire({ timeout: 10_000 });
   * if (grant) console.log(`ours until ${grant.end.toISOString()}`);
   * ```
   */
  tryAcquire(options: WaitOptions = {}): Promise<PeriodGrant | null> {
    const signal = waitSignal(`PeriodLease ${this.path}: not decided`, options);
    return obtain(this.client, this.path, this.identifier, this.duration, signal);
  }

  /**
   * The current record: who holds the lease and until when; `null` when nobody ever did (or
   * the record is in an unknown format). One read. The end may have passed.
   *
   * @example
   * ```ts
   * const current = await lease.holder();
   * ```
   */
  async holder(options: { signal?: AbortSignal } = {}): Promise<PeriodGrant | null> {
    return readRecord(this.client, join(this.path, HOLDER), options.signal);
  }
}

/**
 * "At most `count` holders per period", laid out as kazoo's `MultiNonBlockingLease`: `count`
 * {@link PeriodLease}s at `<path>/0` … `<path>/<count − 1>`, tried in that order until one is
 * granted. Everything said about {@link PeriodLease} (kazoo interop, clocks, persistence)
 * holds for each of them.
 *
 * @example
 * ```ts
 * const twoPerHour = new MultiPeriodLease(client, '/cron/report', 2, { duration: 3_600_000 });
 * const grant = await twoPerHour.tryAcquire();
 * if (grant) await sendReport(); // at most two hosts per hour
 * ```
 */
export class MultiPeriodLease {
  /** The client the lease borrows (never closed by it). */
  readonly client: ZkClient;
  /** The parent of the `count` lease nodes. */
  readonly path: string;
  /** How many holders a period may have. */
  readonly count: number;
  /** Our identifier. */
  readonly identifier: string;
  /** How long a grant lasts, in ms. */
  readonly duration: number;

  /**
   * Local and cheap: nothing is sent until `tryAcquire`.
   *
   * @throws as {@link PeriodLease}'s constructor; `InvalidArgumentError` for a `count` that is
   *   not a positive integer
   */
  constructor(client: ZkClient, path: string, count: number, options: PeriodLeaseOptions) {
    this.path = checkLockArgs(client, path, undefined);
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new InvalidArgumentError('count must be a positive integer');
    }
    const checked = checkOptions(options);
    this.client = client;
    this.count = count;
    this.identifier = checked.identifier;
    this.duration = checked.duration;
  }

  /**
   * Tries the lease nodes in order and resolves with the first grant (its `path` says which
   * node), or `null` when every one is held by another identifier. Each try is
   * {@link PeriodLease.tryAcquire}; `timeout` and `signal` cover the whole call.
   *
   * @throws `InvalidArgumentError` synchronously for a bad timeout or signal
   * @example
   * ```ts
   * const grant = await leases.tryAcquire();
   * ```
   */
  async tryAcquire(options: WaitOptions = {}): Promise<PeriodGrant | null> {
    const signal = waitSignal(`MultiPeriodLease ${this.path}: not decided`, options);
    for (let slot = 0; slot < this.count; slot++) {
      const path = join(this.path, String(slot));
      const grant = await obtain(this.client, path, this.identifier, this.duration, signal);
      if (grant) return grant;
    }
    return null;
  }
}

function checkOptions(options: PeriodLeaseOptions): { identifier: string; duration: number } {
  const { duration, identifier = hostname() } = options ?? ({} as PeriodLeaseOptions);
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
    throw new InvalidArgumentError('duration must be a positive finite number of ms');
  }
  if (typeof identifier !== 'string' || identifier.length === 0) {
    throw new InvalidArgumentError('identifier must be a non-empty string');
  }
  return { identifier, duration };
}

/** One attempt on one lease node, under kazoo's lock. */
async function obtain(
  client: ZkClient,
  path: string,
  identifier: string,
  duration: number,
  signal: AbortSignal | undefined,
): Promise<PeriodGrant | null> {
  // Persistent, as kazoo's ensure_path makes it.
  await client.ensurePath(path, signal ? { signal } : {});
  const lock = await new LockDriver(client, path, kazooLockRules, identifier).wait(signal);
  try {
    const holderPath = join(path, HOLDER);
    const now = Date.now();
    let current: Buffer | undefined;
    try {
      current = (await client.get(holderPath)).data;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
    if (current !== undefined) {
      const record = decode(current);
      // A record this version cannot read is left to whoever wrote it, as kazoo does.
      if (record === undefined) return null;
      if (record.holder !== identifier && now < record.end) return null;
      stillHeld(lock);
      try {
        await client.delete(holderPath);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    // kazoo keeps whole seconds: the fraction is dropped, as its strftime does.
    const end = Math.floor((now + duration) / 1000) * 1000;
    stillHeld(lock);
    try {
      await client.create(holderPath, encode(identifier, end), { mode: 'persistent' });
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
      // A create retried after a lost reply finds its own record; anything else is another's.
      const found = await readRecord(client, holderPath, signal);
      if (found?.holder !== identifier || found.end.getTime() !== end) return null;
    }
    return { path: holderPath, holder: identifier, end: new Date(end) };
  } finally {
    await lock.release();
  }
}

/**
 * Stops an attempt whose lock went with its session: kazoo's askers may be looking at the
 * record now.
 * @throws {@link LockLostError}
 */
function stillHeld(lock: Lease): void {
  if (!lock.held) throw new LockLostError(lock.path, 'session');
}

async function readRecord(
  client: ZkClient,
  path: string,
  signal: AbortSignal | undefined,
): Promise<PeriodGrant | null> {
  try {
    const record = decode((await client.get(path, signal ? { signal } : {})).data);
    return record ? { path, holder: record.holder, end: new Date(record.end) } : null;
  } catch (error) {
    if (error instanceof NoNodeError) return null;
    throw error;
  }
}

/** The record as kazoo writes it: Python's `json.dumps` layout, non-ASCII escaped. */
function encode(holder: string, end: number): Buffer {
  const text = `{"version": ${RECORD_VERSION}, "holder": ${asciiJson(holder)}, "end": "${new Date(end).toISOString().slice(0, 19)}"}`;
  return Buffer.from(text, 'utf8');
}

function asciiJson(value: string): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A holder record, or `undefined` when it is not one this version knows. */
function decode(data: Buffer): HolderRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { version, holder, end } = parsed as Record<string, unknown>;
  if (version !== RECORD_VERSION || typeof holder !== 'string' || typeof end !== 'string') {
    return undefined;
  }
  const m = END_FORMAT.exec(end);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, ...number[]];
  return {
    holder,
    end: Date.UTC(y as number, (mo as number) - 1, d, h, mi, s),
  };
}
