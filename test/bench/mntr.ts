/** The server's mntr output, as parsed by `@zkit/testing`. */
export type MntrSnapshot = Record<string, number | string>;

/** Counters reported per timed section (SCENARIOS.md §0.1). */
export interface MntrCounters {
  packets_received: number;
  packets_sent: number;
  bytes_received: number;
  response_bytes: number;
  watch_bytes: number;
  writes: number;
  reads: number;
  fsyncs: number;
  watch_notifications: number;
}

/** Server-side noise indicators: Δzk_sum_X / Δzk_cnt_X, in ms; null when nothing was counted. */
export interface ServerNoise {
  fsync_ms_avg: number | null;
  write_ms_avg: number | null;
  read_ms_avg: number | null;
}

export interface MntrDelta {
  units: number;
  total: MntrCounters;
  per_unit: MntrCounters;
  server: ServerNoise;
}

const WATCH_KINDS = ['created', 'deleted', 'changed', 'children'] as const;

function num(s: MntrSnapshot, key: string): number {
  const v = s[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new Error(`mntr has no numeric ${key}`);
}

/** Reads the reported counters out of one snapshot. */
export function counters(s: MntrSnapshot): MntrCounters {
  let watchNotifications = 0;
  for (const kind of WATCH_KINDS) watchNotifications += num(s, `zk_sum_node_${kind}_watch_count`);
  return {
    packets_received: num(s, 'zk_packets_received'),
    packets_sent: num(s, 'zk_packets_sent'),
    bytes_received: num(s, 'zk_bytes_received_count'),
    response_bytes: num(s, 'zk_response_bytes'),
    watch_bytes: num(s, 'zk_watch_bytes'),
    writes: num(s, 'zk_cnt_updatelatency'),
    reads: num(s, 'zk_cnt_readlatency'),
    fsyncs: num(s, 'zk_cnt_fsynctime'),
    watch_notifications: watchNotifications,
  };
}

function mapCounters(
  a: MntrCounters,
  b: MntrCounters,
  f: (x: number, y: number) => number,
): MntrCounters {
  const out = { ...a };
  for (const key of Object.keys(a) as (keyof MntrCounters)[]) out[key] = f(a[key], b[key]);
  return out;
}

export const ZERO_COUNTERS: MntrCounters = {
  packets_received: 0,
  packets_sent: 0,
  bytes_received: 0,
  response_bytes: 0,
  watch_bytes: 0,
  writes: 0,
  reads: 0,
  fsyncs: 0,
  watch_notifications: 0,
};

/** after − before, counter by counter. */
export function diff(before: MntrSnapshot, after: MntrSnapshot): MntrCounters {
  return mapCounters(counters(after), counters(before), (x, y) => x - y);
}

function ratio(after: MntrSnapshot, before: MntrSnapshot, what: string): number | null {
  const count = num(after, `zk_cnt_${what}`) - num(before, `zk_cnt_${what}`);
  if (count <= 0) return null;
  return (num(after, `zk_sum_${what}`) - num(before, `zk_sum_${what}`)) / count;
}

/**
 * The server-side cost of a timed section: the counter deltas minus the cost of one mntr call
 * (`overhead`, measured at harness start), divided by the section's units of work.
 */
export function sectionDelta(
  before: MntrSnapshot,
  after: MntrSnapshot,
  overhead: MntrCounters,
  units: number,
): MntrDelta {
  const total = mapCounters(diff(before, after), overhead, (x, y) => x - y);
  return {
    units,
    total,
    per_unit: mapCounters(total, total, (x) => (units > 0 ? x / units : 0)),
    server: {
      fsync_ms_avg: ratio(after, before, 'fsynctime'),
      write_ms_avg: ratio(after, before, 'updatelatency'),
      read_ms_avg: ratio(after, before, 'readlatency'),
    },
  };
}
