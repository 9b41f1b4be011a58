import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MntrDelta } from './mntr.js';
import type { Row } from './scenario.js';
import type { Summary } from './stats.js';

const fixed = (v: number, digits: number): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** `p50 / p99 / mean` of a summary, with a unit. */
export function latency(s: Summary, unit: 'µs' | 'ms' | 's'): string {
  const d = unit === 'µs' ? 0 : unit === 'ms' ? 2 : 3;
  return `${fixed(s.p50, d)} / ${fixed(s.p99, d)} / ${fixed(s.mean, d)} ${unit}`;
}

export function rate(perSecond: number, unit: string): string {
  return `${fixed(perSecond, 0)} ${unit}/s`;
}

export function number(v: number, digits = 2): string {
  return fixed(v, digits);
}

export interface TableLine {
  scenario: string;
  row: Row;
}

const HEADER = ['scenario', 'figure', 'value', 'req/u', 'resp/u', 'wr/u', 'rd/u', 'B resp/u'];

function mntrCells(m: MntrDelta | undefined): string[] {
  if (!m) return ['', '', '', '', ''];
  const u = m.per_unit;
  return [
    number(u.packets_received),
    number(u.packets_sent),
    number(u.writes),
    number(u.reads),
    number(u.response_bytes + u.watch_bytes, 0),
  ];
}

/** The printed table: one line per row, with the server's per-unit cost beside each figure. */
export function formatTable(lines: readonly TableLine[]): string {
  const cells = lines.map(({ scenario, row }) => [
    scenario,
    row.figure,
    row.value,
    ...mntrCells(row.mntr),
  ]);
  const all = [HEADER, ...cells];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const numeric = (i: number) => i >= 3;
  const format = (r: string[]) =>
    r
      .map((c, i) => (numeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [format(HEADER), rule, ...cells.map(format)].join('\n');
}

export const TABLE_LEGEND =
  'per unit of work, from mntr: req = packets received (requests + pings), resp = packets sent, ' +
  'wr/rd = write/read requests processed, B resp = response + watch bytes';

/** Writes the results file and returns its path. */
export function writeResults(dir: string, startedUtc: string, results: unknown): string {
  mkdirSync(dir, { recursive: true });
  const stamp = startedUtc.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `zkit-${stamp}.json`);
  const json = JSON.stringify(
    results,
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    2,
  );
  writeFileSync(file, `${json}\n`);
  return file;
}

/** What {@link roundsSummary} reads from each round's results. */
export interface RoundResults {
  started_utc: string;
  loadavg_start: number[];
  loadavg_end: number[];
  comparison_rows: Record<string, [figure: string, value: string][]>;
}

/** Every comparison row of every round, one line per round under each figure, with the load. */
export function roundsSummary(rounds: readonly RoundResults[]): string {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  const lines = [`${rounds.length} rounds; load average (1, 5, 15 min) at start → at end:`];
  rounds.forEach((r, i) => {
    lines.push(
      `  round ${i + 1} (${r.started_utc}): ${load(r.loadavg_start)} → ${load(r.loadavg_end)}`,
    );
  });
  const table: TableLine[] = [];
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r.comparison_rows)))];
  for (const name of names) {
    const figures = [
      ...new Set(rounds.flatMap((r) => (r.comparison_rows[name] ?? []).map(([f]) => f))),
    ];
    for (const figure of figures) {
      rounds.forEach((r, i) => {
        const value = r.comparison_rows[name]?.find(([f]) => f === figure)?.[1] ?? '–';
        table.push({ scenario: name, row: { figure: `${figure} (round ${i + 1})`, value } });
      });
    }
  }
  if (table.length > 0) lines.push('', formatTable(table));
  return lines.join('\n');
}
