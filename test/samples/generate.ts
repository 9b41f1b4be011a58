/**
 * Writes every TypeScript and JavaScript sample of the docs into one directory with a tsconfig,
 * so that a single `tsc` run typechecks them all and emits the programs to run.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from './markdown.js';

/** A sample written out: where its code starts, and where its program is after `tsc`. */
export interface GeneratedSample {
  readonly sample: Sample;
  /** The generated source file, relative to the output directory. */
  readonly source: string;
  /** The emitted program (absolute path). */
  readonly program: string;
  /** Lines of the generated file before the sample's first line (header and preludes). */
  readonly offset: number;
}

/** A compiler diagnostic, placed in the markdown file it came from. */
export interface Diagnostic {
  /** The generated file it is in, when it is in one. */
  readonly source: string | undefined;
  readonly where: string;
  readonly message: string;
}

const TSCONFIG = {
  extends: '../../../tsconfig.base.json',
  compilerOptions: {
    composite: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    incremental: false,
    allowJs: true,
    checkJs: true,
    rootDir: '.',
    outDir: 'dist',
  },
  include: ['*.ts', '*.mjs', '*.cjs'],
};

/**
 * Diagnostics that only say a value has no declared type (an implicit `any`, an `unknown` from a
 * generic default). JavaScript cannot declare one, so in a JavaScript sample they are not
 * mistakes; everything else (a wrong import, method, option or argument) still is.
 */
const UNTYPED_JS = new Set([7005, 7006, 7031, 7034, 18046, 18047, 18048]);

/** The typechecked languages and the file extension each is written with. */
export const EXTENSIONS: Readonly<Record<string, string>> = { ts: '.ts', js: '.mjs' };

/**
 * Writes `samples` (TypeScript and JavaScript blocks only) to `outDir`, replacing what was
 * there. A fragment is preceded by its preludes, read from `preludeDir/<name>.ts`.
 */
export function generate(samples: Sample[], outDir: string, preludeDir: string): GeneratedSample[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  const written: GeneratedSample[] = [];
  for (const sample of samples) {
    let extension = EXTENSIONS[sample.lang];
    if (extension === undefined) continue;
    // A JavaScript program that loads zkit with require() is a CommonJS one.
    if (extension === '.mjs' && /\brequire\(/.test(sample.code) && !/^import /m.test(sample.code)) {
      extension = '.cjs';
    }
    // Preludes are TypeScript: a JavaScript fragment that needs one is checked as TypeScript.
    if (sample.spec.kind === 'fragment' && sample.spec.preludes.length > 0) extension = '.ts';
    const name = `${sample.file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-${sample.line}`;
    const head = [`// ${sample.where}`];
    if (sample.spec.kind === 'fragment') {
      for (const prelude of sample.spec.preludes) {
        const text = readFileSync(join(preludeDir, `${prelude}.ts`), 'utf8');
        head.push(`// prelude ${prelude}`, ...text.trimEnd().split('\n'));
      }
      // A fragment without imports is still a module of its own (a .cjs file always is).
      if (extension !== '.cjs') head.push('export {};');
    }
    const source = name + extension;
    writeFileSync(join(outDir, source), [...head, sample.code].join('\n'));
    written.push({
      sample,
      source,
      program: join(outDir, 'dist', name + (extension === '.ts' ? '.js' : extension)),
      offset: head.length,
    });
  }
  return written;
}

/**
 * Runs `tsc` once over `outDir` (typechecks and emits); resolves with every diagnostic, each
 * placed at its line in the markdown file.
 */
export function compile(
  root: string,
  outDir: string,
  generated: GeneratedSample[],
): Promise<Diagnostic[]> {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [tsc, '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: outDir, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        const diagnostics: Diagnostic[] = [];
        let reported = 0;
        for (const line of stdout.split('\n')) {
          const match = /^(.+?)\((\d+),(\d+)\): (error TS(\d+).*)$/.exec(line.trim());
          if (match === null) continue;
          const [, file = '', row = '0', , message = '', code = ''] = match;
          reported++;
          if (/\.[mc]js$/.test(file) && UNTYPED_JS.has(Number(code))) continue;
          const source = generated.find((g) => file.endsWith(g.source));
          if (source === undefined) {
            diagnostics.push({ source: undefined, where: file, message });
            continue;
          }
          const inSample = Number(row) - source.offset;
          // A line of a prelude is reported at the block; of the block, at its markdown line.
          const where =
            inSample >= 1
              ? `${source.sample.file}:${source.sample.line + inSample}`
              : `${source.sample.where} (prelude)`;
          diagnostics.push({ source: source.source, where, message });
        }
        // tsc exits non-zero on diagnostics; only a run that printed none of them failed.
        if (error !== null && reported === 0) reject(new Error(`${error.message}\n${stdout}`));
        else resolve(diagnostics);
      },
    );
  });
}
