/**
 * Text shared by the commands' output.
 *
 * @module
 */

/**
 * An age as an operator reads it: `42s`, `3m12s`, `5h07m`, `2d03h` (truncated, never rounded
 * up).
 *
 * @example
 * ```ts
 * formatAge(192_000); // '3m12s'
 * ```
 * @param ms - the age in milliseconds
 */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}
