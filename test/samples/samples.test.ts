/**
 * Every code sample of the README, the guides and the package and example READMEs works as
 * printed: TypeScript and JavaScript blocks typecheck (in one `tsc` run), whole programs run
 * against a real server and exit by themselves, and shell blocks name packages and scripts that
 * exist. The comment convention that marks fragments and tunes runs is in CONTRIBUTING.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { ephemeralNodes } from '../chaos/harness.js';
import { compile, generate, type Diagnostic } from './generate.js';
import { allSamples, type Sample } from './markdown.js';
import { NODE_WARNING, runNode, STACK_LINE, type RunResult } from './run.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'test/samples/generated');
const PRELUDES = join(ROOT, 'test/samples/preludes');
/** How long one run of a sample may take before it counts as hanging. */
const RUN_TIMEOUT = 45_000;

const samples = allSamples(ROOT);
const generated = generate(samples, OUT, PRELUDES);
const programs = generated.filter((g) => g.sample.spec.kind === 'program');

let diagnostics: Diagnostic[] = [];
beforeAll(async () => {
  diagnostics = await compile(ROOT, OUT, generated);
}, 120_000);

const describe = (list: readonly Diagnostic[]) =>
  list.map((d) => `${d.where}: ${d.message}`).join('\n');

test('samples - the checked markdown files have TypeScript or JavaScript samples', () => {
  const files = new Set(generated.map((g) => g.sample.file));
  for (const file of [
    'README.md',
    'docs/getting-started.md',
    'docs/lock.md',
    'packages/core/README.md',
  ]) {
    expect(files).toContain(file);
  }
});

test('samples - every TypeScript and JavaScript block typechecks', () => {
  // One assertion over all blocks: tsc ran once for every one of them.
  expect(describe(diagnostics)).toBe('');
});

test.for(generated.map((g) => [g.sample.where, g] as const))('samples - %s typechecks', ([, g]) => {
  expect(describe(diagnostics.filter((d) => d.source === g.source))).toBe('');
});

/** Checks one run's outcome: exit 0, no stack trace, no Node.js warning, the expected text. */
function expectClean(sample: Sample, result: RunResult): void {
  const context = `${sample.where}\n${result.output}`;
  expect(result.hung, `hangs (killed after ${RUN_TIMEOUT} ms): ${context}`).toBe(false);
  expect(result.code, context).toBe(0);
  expect(STACK_LINE.test(result.output), `prints a stack trace: ${context}`).toBe(false);
  expect(NODE_WARNING.test(result.output), `makes Node.js warn: ${context}`).toBe(false);
  if (sample.spec.kind === 'program' && sample.spec.expect !== undefined) {
    expect(result.output, context).toContain(sample.spec.expect);
  }
}

test.for(programs.map((g) => [g.sample.where, g] as const))(
  'samples - %s runs to the end by itself, twice in a row, and leaves no ephemeral node',
  // Programs run side by side: each has its own chroot, and most of their time is waiting.
  { concurrent: true, timeout: 4 * RUN_TIMEOUT },
  async ([, g], { zk }) => {
    const { sample } = g;
    if (sample.spec.kind !== 'program') throw new Error('not a program');
    expect(describe(diagnostics.filter((d) => d.source === g.source))).toBe('');
    const { copies, args, env, until } = sample.spec;
    const observer = await zk.client();
    // Twice on the same tree: a sample must also work when a user runs it again.
    for (let round = 1; round <= 2; round++) {
      const results = await Promise.all(
        Array.from({ length: copies }, () =>
          runNode(g.program, {
            args,
            env: { ...env, ZOOKEEPER_CONNECT: zk.connectString },
            timeout: RUN_TIMEOUT,
            ...(until === undefined ? {} : { interruptWhen: until }),
          }),
        ),
      );
      for (const result of results) expectClean(sample, result);
      // Every program closed its client (or its Ctrl-C handler did): nothing it created with its
      // session outlives it. A program that exits without close() would leave its ephemeral
      // nodes until the server expires its session.
      expect(await ephemeralNodes(observer, '/'), `round ${round}`).toEqual([]);
    }
  },
);

// --- shell blocks -------------------------------------------------------------------------

interface Workspace {
  readonly name: string;
  readonly private: boolean;
  readonly scripts: Record<string, string>;
}

function workspaces(): Map<string, Workspace> {
  const found = new Map<string, Workspace>();
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  found.set('', { name: '', private: true, scripts: root.scripts });
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { name?: string }>;
  };
  for (const path of Object.keys(lock.packages)) {
    if (path === '' || path.includes('node_modules')) continue;
    const manifest = JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8')) as {
      name: string;
      private?: boolean;
      scripts?: Record<string, string>;
    };
    found.set(manifest.name, {
      name: manifest.name,
      private: manifest.private === true,
      scripts: manifest.scripts ?? {},
    });
  }
  return found;
}

/** What is wrong with the npm commands of a shell block. */
function shellProblems(sample: Sample, known: Map<string, Workspace>): string[] {
  const problems: string[] = [];
  for (const line of sample.code.split('\n')) {
    for (const command of line.replace(/#.*$/, '').split(/&&|;/)) {
      const words = command
        .trim()
        .split(/\s+/)
        .filter((w) => !/^[A-Z_]+=/.test(w));
      if (words[0] !== 'npm') continue;
      const [, verb = '', ...rest] = words;
      const flags = rest.filter((w) => w.startsWith('-'));
      const operands = rest.filter((w, i) => !w.startsWith('-') && rest[i - 1] !== '-w');
      const workspace = rest[rest.indexOf('-w') + 1];
      if (verb === 'install' || verb === 'i') {
        for (const name of operands.filter((n) => n.startsWith('@zkit/'))) {
          const target = known.get(name);
          if (target === undefined) problems.push(`${sample.where}: no package ${name}`);
          else if (target.private) problems.push(`${sample.where}: ${name} is not published`);
        }
      } else if (verb === 'run' || verb === 'start' || verb === 'test') {
        const script = verb === 'run' ? (operands[0] ?? '') : verb;
        const owner = known.get(flags.includes('-w') ? (workspace ?? '?') : '');
        if (owner === undefined) problems.push(`${sample.where}: no workspace ${workspace}`);
        else if (owner.scripts[script] === undefined) {
          problems.push(`${sample.where}: ${owner.name || 'the root'} has no script '${script}'`);
        }
      }
    }
  }
  return problems;
}

test('samples - shell blocks install published @zkit packages and run scripts that exist', () => {
  const known = workspaces();
  const shell = samples.filter((s) => s.lang === 'sh');
  expect(shell.length).toBeGreaterThan(10);
  expect(shell.flatMap((s) => shellProblems(s, known))).toEqual([]);
});
