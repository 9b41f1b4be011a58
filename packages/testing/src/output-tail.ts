/**
 * Keeps the last `limit` lines written to a stream, so a server that fails can be explained
 * without keeping (or printing) everything it ever logged.
 */
export class OutputTail {
  readonly #limit: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Appends a chunk of output; lines may be split across chunks. */
  write(chunk: Buffer | string): void {
    const text = this.#partial + chunk.toString();
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#push(line.replace(/\r$/, ''));
    // A never-ending line must not grow without bound either.
    if (this.#partial.length > 10_000) {
      this.#push(this.#partial);
      this.#partial = '';
    }
  }

  /** The retained lines, oldest first, including an unterminated last line. */
  lines(): string[] {
    return this.#partial === '' ? [...this.#lines] : [...this.#lines, this.#partial];
  }

  /** Whether any retained line matches. */
  some(pattern: RegExp): boolean {
    return this.lines().some((line) => pattern.test(line));
  }

  #push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.splice(0, this.#lines.length - this.#limit);
  }
}
