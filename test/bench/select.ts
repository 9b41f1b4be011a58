import type { Scenario } from './scenario.js';

/** Selects scenarios by `BENCH_ONLY` tokens: a token matches a name or a name's family (`S2` → `S2-c8`). */
export function selectScenarios(all: readonly Scenario[], only: string | undefined): Scenario[] {
  const tokens = (only ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (tokens.length === 0) return [...all];
  const matches = (name: string, token: string) =>
    name.toLowerCase() === token.toLowerCase() ||
    name.toLowerCase().startsWith(`${token.toLowerCase()}-`);
  for (const token of tokens) {
    if (!all.some((s) => matches(s.name, token))) {
      throw new Error(
        `BENCH_ONLY: no scenario named ${token} (known: ${all.map((s) => s.name).join(', ')})`,
      );
    }
  }
  return all.filter((s) => tokens.some((t) => matches(s.name, t)));
}

/** `BENCH_SCALE`, a positive number; 1 when unset. */
export function parseScale(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`BENCH_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return scale;
}

/** The same selection over plain names (the `--peers` scenario list). */
export function selectNames(all: readonly string[], only: string | undefined): string[] {
  const named = all.map((name) => ({ name, title: name, run: async () => ({}) }));
  return selectScenarios(named, only).map((s) => s.name);
}
