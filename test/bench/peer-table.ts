/**
 * The side-by-side table of a `--peers` run: which figures are compared, their median over the
 * rounds per library, and the ratios zkit ÷ Curator and zkit ÷ kazoo. Used by the run itself
 * (`peers.ts`) and by `chart.ts`, which re-renders any saved results file.
 */

export const LIBS = ['zkit', 'curator', 'kazoo'] as const;
export type Lib = (typeof LIBS)[number];

export const LIB_LABELS: Record<Lib, string> = {
  zkit: 'zkit',
  curator: 'Curator',
  kazoo: 'kazoo',
};

type ScenarioResult = Record<string, unknown>;

/** One compared figure. `better` says which direction of the ratio favours zkit. */
export interface Figure {
  scenario: string;
  figure: string;
  unit: string;
  better: 'lower' | 'higher';
  digits: number;
  pick(result: ScenarioResult): number | null;
}

/** A pass/fail check per library (no ratio): every round must pass. */
export interface Check {
  scenario: string;
  figure: string;
  pick(result: ScenarioResult): boolean | null;
}

function path(result: ScenarioResult, ...keys: string[]): unknown {
  let v: unknown = result;
  for (const k of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

const numberAt =
  (...keys: string[]) =>
  (r: ScenarioResult): number | null => {
    const v = path(r, ...keys);
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };

const scaled =
  (factor: number, pick: (r: ScenarioResult) => number | null) => (r: ScenarioResult) => {
    const v = pick(r);
    return v === null ? null : v * factor;
  };

/** Requests (client packets received by the server, pings included) per unit of a section. */
const requests = (section: string) => numberAt(`mntr_${section}`, 'per_unit', 'packets_received');

/** Response plus watch-notification bytes per unit of a section. */
const responseBytes = (section: string) => (r: ScenarioResult) => {
  const resp = numberAt(`mntr_${section}`, 'per_unit', 'response_bytes')(r);
  const watch = numberAt(`mntr_${section}`, 'per_unit', 'watch_bytes')(r);
  return resp === null || watch === null ? null : resp + watch;
};

function fig(
  scenario: string,
  figure: string,
  unit: string,
  better: Figure['better'],
  digits: number,
  pick: Figure['pick'],
): Figure {
  return { scenario, figure, unit, better, digits, pick };
}

function queueFigures(s: string): Figure[] {
  return [
    fig(s, 'produce', 'items/s', 'higher', 0, numberAt('produce_items_per_s')),
    fig(s, 'consume', 'items/s', 'higher', 0, numberAt('consume_items_per_s')),
    fig(s, 'requests per consumed item', 'req', 'lower', 2, requests('consume')),
    fig(s, 'response bytes per consumed item', 'B', 'lower', 0, responseBytes('consume')),
  ];
}

/** The compared figures, in scenario order. */
export const FIGURES: readonly Figure[] = [
  fig('S0', 'exists p50', 'µs', 'lower', 0, numberAt('exists_us', 'p50')),
  fig('S0', 'create+delete p50', 'µs', 'lower', 0, numberAt('create_delete_us', 'p50')),
  fig('S0', 'requests per exists', 'req', 'lower', 2, requests('exists')),
  fig('S1', 'cycle p50', 'µs', 'lower', 0, numberAt('cycle_us', 'p50')),
  fig('S1', 'cycle p99', 'µs', 'lower', 0, numberAt('cycle_us', 'p99')),
  fig('S1', 'cycles/s', 'cycles/s', 'higher', 0, numberAt('cycles_per_s')),
  fig('S1', 'requests per cycle', 'req', 'lower', 2, requests('cycle')),
  fig('S1', 'floor: the requests alone p50', 'µs', 'lower', 0, numberAt('floor_cycle_us', 'p50')),
  fig('S2-c8', 'acquisitions/s', 'acq/s', 'higher', 0, numberAt('acquisitions_per_s')),
  fig('S2-c8', 'requests per acquisition', 'req', 'lower', 2, requests('acquisition')),
  fig('S2-c32', 'acquisitions/s', 'acq/s', 'higher', 0, numberAt('acquisitions_per_s')),
  fig('S2-c32', 'requests per acquisition', 'req', 'lower', 2, requests('acquisition')),
  fig('S3', 'hand-off p50', 'ms', 'lower', 2, numberAt('handoff_ms', 'p50')),
  fig('S3', 'hand-off p99', 'ms', 'lower', 2, numberAt('handoff_ms', 'p99')),
  fig('S3', 'requests per hand-off (with rejoin)', 'req', 'lower', 2, requests('handoff')),
  fig('S3', 'floor: the requests alone p50', 'ms', 'lower', 2, numberAt('floor_handoff_ms', 'p50')),
  fig('S3-crash', 'failover min', 's', 'lower', 2, scaled(1e-3, numberAt('failover', 'min'))),
  fig('S3-crash', 'failover median', 's', 'lower', 2, scaled(1e-3, numberAt('failover', 'p50'))),
  fig('S3-crash', 'failover max', 's', 'lower', 2, scaled(1e-3, numberAt('failover', 'max'))),
  ...queueFigures('S4a'),
  ...queueFigures('S4b'),
  ...queueFigures('S4c'),
  fig('S5', 'round p50', 'ms', 'lower', 1, numberAt('round_ms', 'p50')),
  fig('S5', 'round p99', 'ms', 'lower', 1, numberAt('round_ms', 'p99')),
  fig('S5', 'requests per member-round', 'req', 'lower', 2, requests('member_round')),
  fig(
    'S6',
    'visible after register p50',
    'ms',
    'lower',
    2,
    numberAt('visible_after_return_ms', 'p50'),
  ),
  fig(
    'S6',
    'visible after register p99',
    'ms',
    'lower',
    2,
    numberAt('visible_after_return_ms', 'p99'),
  ),
  fig('S6', 'cold query', 'ms', 'lower', 1, numberAt('cold_query_ms')),
  fig('S6', 'requests per registration', 'req', 'lower', 2, requests('register')),
  fig('S7-c1', 'increments/s', 'inc/s', 'higher', 0, numberAt('increments_per_s')),
  fig('S7-c1', 'requests per increment', 'req', 'lower', 2, requests('increment')),
  fig('S7-c8', 'increments/s', 'inc/s', 'higher', 0, numberAt('increments_per_s')),
  fig('S7-c8', 'requests per increment', 'req', 'lower', 2, requests('increment')),
  fig('S7-c32', 'increments/s', 'inc/s', 'higher', 0, numberAt('increments_per_s')),
  fig('S7-c32', 'requests per increment', 'req', 'lower', 2, requests('increment')),
  fig('S8', 'initial load of 10,000 nodes', 'ms', 'lower', 0, numberAt('load_ms')),
  fig('S8', 'initial load requests', 'req', 'lower', 0, numberAt('load_requests')),
  fig('S8', 'initial load response bytes', 'B', 'lower', 0, numberAt('load_response_bytes')),
  fig('S8', 'change → event p50', 'ms', 'lower', 2, numberAt('change_to_event_ms', 'p50')),
  fig('S8', 'change → event p99', 'ms', 'lower', 2, numberAt('change_to_event_ms', 'p99')),
  fig('S8', 'cache requests per change', 'req', 'lower', 2, numberAt('cache_requests_per_change')),
  fig('S8', 'heap per cached node', 'B', 'lower', 0, numberAt('heap_bytes_per_node')),
];

const queueCheck = (s: string): Check => ({
  scenario: s,
  figure: 'exactly once, queue empty',
  pick: (r) =>
    typeof r['exactly_once'] === 'boolean' ? r['exactly_once'] && r['left_in_queue'] === 0 : null,
});

const mutexCheck = (s: string): Check => ({
  scenario: s,
  figure: 'no violations, counter = T',
  pick: (r) =>
    typeof r['violations'] === 'number' ? r['violations'] === 0 && r['counter_ok'] === true : null,
});

const counterCheck = (s: string): Check => ({
  scenario: s,
  figure: 'no failed increment, counter = T',
  pick: (r) => (typeof r['counter_ok'] === 'boolean' ? r['counter_ok'] : null),
});

export const CHECKS: readonly Check[] = [
  mutexCheck('S2-c8'),
  mutexCheck('S2-c32'),
  queueCheck('S4a'),
  queueCheck('S4b'),
  queueCheck('S4c'),
  counterCheck('S7-c1'),
  counterCheck('S7-c8'),
  counterCheck('S7-c32'),
];

/** The results file of one library's run (the harness JSON, SCENARIOS.md §7). */
export interface RunResults {
  lib: string;
  lib_version: string;
  scenarios: Record<string, ScenarioResult>;
  [key: string]: unknown;
}

export interface PeerRun {
  round: number;
  /** 0-based position of this library in the round's order. */
  position: number;
  lib: Lib;
  /** The runner's JSON, or null when it produced none. */
  results: RunResults | null;
  /** Why the runner failed as a whole (it exited without a results file). */
  error?: string;
}

/** One cell: the median over the rounds and every round's value (null: not run, or failed). */
export interface Cell {
  median: number | null;
  rounds: (number | null)[];
  /** "skipped" (the library has no such recipe), "error", or null. */
  note: 'skipped' | 'error' | null;
}

export interface TableRow {
  scenario: string;
  figure: string;
  unit: string;
  better: 'lower' | 'higher';
  digits: number;
  values: Record<Lib, Cell>;
  /** zkit ÷ Curator and zkit ÷ kazoo of the medians. */
  ratio: { curator: number | null; kazoo: number | null };
}

export interface CheckRow {
  scenario: string;
  figure: string;
  values: Record<Lib, { ok: boolean | null; rounds: (boolean | null)[] }>;
}

/** Median of the non-null values (mean of the middle two for an even count). */
export function median(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1
    ? (v[mid] as number)
    : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

function scenarioOf(run: PeerRun, scenario: string): ScenarioResult | undefined {
  return run.results?.scenarios[scenario];
}

/** Builds the table from every run of every round. */
export function buildTable(runs: readonly PeerRun[]): { rows: TableRow[]; checks: CheckRow[] } {
  const rounds = Math.max(0, ...runs.map((r) => r.round + 1));
  const runOf = (lib: Lib, round: number) => runs.find((r) => r.lib === lib && r.round === round);
  const ran = (s: string) =>
    runs.some((r) => scenarioOf(r, s) !== undefined && !('skipped' in (scenarioOf(r, s) ?? {})));

  const rows: TableRow[] = [];
  for (const f of FIGURES) {
    if (!ran(f.scenario)) continue;
    const values = {} as Record<Lib, Cell>;
    for (const lib of LIBS) {
      const perRound: (number | null)[] = [];
      let note: Cell['note'] = null;
      for (let round = 0; round < rounds; round++) {
        const result = (() => {
          const run = runOf(lib, round);
          return run ? scenarioOf(run, f.scenario) : undefined;
        })();
        if (result === undefined) {
          perRound.push(null);
          continue;
        }
        if ('skipped' in result) note = 'skipped';
        else if ('error' in result) note ??= 'error';
        perRound.push('skipped' in result || 'error' in result ? null : f.pick(result));
      }
      values[lib] = { median: median(perRound), rounds: perRound, note };
    }
    const z = values.zkit.median;
    const ratio = (peer: Lib) => {
      const p = values[peer].median;
      return z === null || p === null || p === 0 ? null : z / p;
    };
    rows.push({
      scenario: f.scenario,
      figure: f.figure,
      unit: f.unit,
      better: f.better,
      digits: f.digits,
      values,
      ratio: { curator: ratio('curator'), kazoo: ratio('kazoo') },
    });
  }

  const checks: CheckRow[] = [];
  for (const c of CHECKS) {
    if (!ran(c.scenario)) continue;
    const values = {} as CheckRow['values'];
    for (const lib of LIBS) {
      const perRound: (boolean | null)[] = [];
      for (let round = 0; round < rounds; round++) {
        const run = runOf(lib, round);
        const result = run ? scenarioOf(run, c.scenario) : undefined;
        perRound.push(result === undefined || 'skipped' in result ? null : c.pick(result));
      }
      const seen = perRound.filter((v): v is boolean => v !== null);
      values[lib] = { ok: seen.length === 0 ? null : seen.every(Boolean), rounds: perRound };
    }
    checks.push({ scenario: c.scenario, figure: c.figure, values });
  }
  return { rows, checks };
}

const fixed = (v: number, digits: number): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A cell as printed: the median, or "–" when the library has no such recipe, "error", "n/a". */
export function cellText(cell: Cell, digits: number): string {
  if (cell.median !== null) return fixed(cell.median, digits);
  if (cell.note === 'skipped') return '–';
  if (cell.note === 'error') return 'error';
  return 'n/a';
}

export function ratioText(ratio: number | null): string {
  return ratio === null ? '–' : fixed(ratio, 2);
}

const checkText = (ok: boolean | null) => (ok === null ? '–' : ok ? 'yes' : 'NO');

type Table = { rows: TableRow[]; checks: CheckRow[] };

/** Header and cells for the libraries that ran; ratio columns only when zkit ran. */
function tableCells(table: Table, libs: readonly Lib[]): { header: string[]; cells: string[][] } {
  const peers = libs.includes('zkit')
    ? libs.filter((l): l is 'curator' | 'kazoo' => l !== 'zkit')
    : [];
  const header = [
    'scenario',
    'figure',
    'unit',
    ...libs.map((lib) => LIB_LABELS[lib]),
    ...peers.map((peer) => `zkit ÷ ${LIB_LABELS[peer]}`),
    'better',
  ];
  const cells = table.rows.map((r) => [
    r.scenario,
    r.figure,
    r.unit,
    ...libs.map((lib) => cellText(r.values[lib], r.digits)),
    ...peers.map((peer) => ratioText(r.ratio[peer])),
    r.better,
  ]);
  for (const c of table.checks) {
    cells.push([
      c.scenario,
      c.figure,
      '',
      ...libs.map((lib) => checkText(c.values[lib].ok)),
      ...peers.map(() => ''),
      '',
    ]);
  }
  return { header, cells };
}

/** Numeric columns: the libraries' values and the ratios (between unit and "better"). */
const isNumeric = (i: number, header: readonly string[]) => i >= 3 && i < header.length - 1;

/** The table as plain text for the terminal. */
export function formatPeerTable(table: Table, libs: readonly Lib[] = LIBS): string {
  const { header, cells } = tableCells(table, libs);
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (isNumeric(i, header) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The table as GitHub Markdown. */
export function markdownPeerTable(table: Table, libs: readonly Lib[] = LIBS): string {
  const { header, cells } = tableCells(table, libs);
  const escape = (c: string) => c.replace(/\|/g, '\\|');
  const align = header.map((_, i) => (isNumeric(i, header) ? '---:' : '---'));
  return [header, align, ...cells].map((r) => `| ${r.map(escape).join(' | ')} |`).join('\n');
}

export const PEER_LEGEND =
  'Medians over the rounds. A ratio is zkit ÷ the other library; "better" says which direction ' +
  'favours zkit (lower: below 1.00 means zkit is faster or sends fewer requests). req = packets ' +
  'the server received (requests plus pings) per unit, from mntr. "–": the library has no such ' +
  'recipe (kazoo has no SimpleDistributedQueue, so S4b is not run for it). "n/a": not measured ' +
  "for that library (the floor rows time zkit's bare client sending a scenario's requests with " +
  "no recipe code, to show how much of the figure above them is the server's).";
