/** Terminal narration for the demo: coloured when the output is a terminal, plain otherwise. */
const useColour = process.stdout.isTTY && process.env['NO_COLOR'] === undefined;
const paint = (code: number) => (text: string) =>
  useColour ? `\u001b[${code}m${text}\u001b[0m` : text;

export const bold = paint(1);
export const dim = paint(2);
export const green = paint(32);
export const yellow = paint(33);
export const blue = paint(34);
export const magenta = paint(35);
export const cyan = paint(36);
export const red = paint(31);

const started = performance.now();

function stamp(): string {
  return dim(`${((performance.now() - started) / 1000).toFixed(2).padStart(6)}s`);
}

/** A step heading. */
export function chapter(title: string): void {
  process.stdout.write(`\n${bold(cyan(`▸ ${title}`))}\n`);
}

/** One line of what happens, with the time since the demo started. */
export function say(line: string): void {
  process.stdout.write(`${stamp()}  ${line}\n`);
}

/** A table with a bold header row; columns sized to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n${bold(line(header))}\n`);
  process.stdout.write(`${dim(widths.map((w) => '─'.repeat(w)).join('  '))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}
