/**
 * Finds the code samples of the repository's markdown: every fenced block of README.md,
 * docs/*.md, packages/*\/README.md and examples/*\/README.md, with the HTML comment written just
 * above it, which says what kind of sample it is (see CONTRIBUTING.md, "Code samples").
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What the comment above a block says about it. */
export type SampleKind =
  /** No comment: a whole program, typechecked and run. */
  | {
      kind: 'program';
      copies: number;
      args: string[];
      env: Record<string, string>;
      until?: string;
      expect?: string;
    }
  /** `<!-- fragment: a, b -->`: typechecked after the named preludes, never run. */
  | { kind: 'fragment'; preludes: string[] };

/** One fenced block. */
export interface Sample {
  /** Repository-relative path of the markdown file. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's language: `ts`, `js`, `sh`, … */
  readonly lang: string;
  readonly code: string;
  readonly spec: SampleKind;
  /** `docs/lock.md:42`, for test names and messages. */
  readonly where: string;
}

/** The markdown files whose samples are checked. */
export function sampleFiles(root: string): string[] {
  const files = ['README.md'];
  const dir = (path: string) => readdirSync(join(root, path)).sort();
  for (const name of dir('docs')) if (name.endsWith('.md')) files.push(`docs/${name}`);
  for (const parent of ['packages', 'examples']) {
    for (const name of dir(parent)) {
      if (existsSync(join(root, parent, name, 'README.md'))) {
        files.push(`${parent}/${name}/README.md`);
      }
    }
  }
  return files;
}

const FENCE = /^\s*```(\S*)\s*$/;
const COMMENT = /^<!--\s*(fragment|run)\b:?\s*(.*?)\s*-->\s*$/;

/** Parses `key=value key="a value"` pairs. */
function options(text: string, where: string): Map<string, string> {
  const found = new Map<string, string>();
  const pair = /(\w+)=(?:"([^"]*)"|(\S+))/gy;
  let rest = text.trim();
  while (rest !== '') {
    pair.lastIndex = 0;
    const match = pair.exec(rest);
    if (match === null) throw new Error(`${where}: cannot read sample options '${rest}'`);
    found.set(match[1] ?? '', match[2] ?? match[3] ?? '');
    rest = rest.slice(pair.lastIndex).trim();
  }
  return found;
}

function spec(comment: RegExpExecArray | null, where: string): SampleKind {
  if (comment === null) return { kind: 'program', copies: 1, args: [], env: {} };
  const [, kind = '', text = ''] = comment;
  if (kind === 'fragment') {
    const preludes = text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    return { kind: 'fragment', preludes };
  }
  const given = options(text, where);
  const result: SampleKind = {
    kind: 'program',
    copies: Number(given.get('copies') ?? 1),
    args: (given.get('args') ?? '').split(' ').filter((arg) => arg !== ''),
    env: Object.fromEntries(
      (given.get('env') ?? '')
        .split(' ')
        .filter((pair) => pair !== '')
        .map((pair) => pair.split('=') as [string, string]),
    ),
  };
  const until = given.get('until');
  if (until !== undefined) result.until = until;
  const expected = given.get('expect');
  if (expected !== undefined) result.expect = expected;
  for (const key of given.keys()) {
    if (!['copies', 'args', 'env', 'until', 'expect'].includes(key)) {
      throw new Error(`${where}: unknown sample option '${key}'`);
    }
  }
  if (!Number.isInteger(result.copies) || result.copies < 1) {
    throw new Error(`${where}: copies must be a positive integer`);
  }
  return result;
}

/** Every fenced block of one markdown file. */
export function samplesOf(root: string, file: string): Sample[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) continue;
    const indent = /^\s*/.exec(lines[i] ?? '')?.[0] ?? '';
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] ?? '').trim() !== '```'; i++) {
      body.push((lines[i] ?? '').slice(indent.length));
    }
    // The comment must sit right above the fence (blank lines allowed in between).
    let above = start - 1;
    while (above >= 0 && (lines[above] ?? '').trim() === '') above--;
    const where = `${file}:${start + 1}`;
    samples.push({
      file,
      line: start + 1,
      lang: open[1] ?? '',
      code: body.join('\n') + '\n',
      spec: spec(COMMENT.exec((lines[above] ?? '').trim()), where),
      where,
    });
  }
  return samples;
}

/** Every sample of every checked markdown file. */
export function allSamples(root: string): Sample[] {
  return sampleFiles(root).flatMap((file) => samplesOf(root, relative(root, join(root, file))));
}
