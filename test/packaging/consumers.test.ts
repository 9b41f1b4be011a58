// What a user gets from npm: every package in packages/ packed with `npm pack`, the tarballs
// installed into a fresh CommonJS project outside the repository, then required, compiled and
// run from there. One pack, one install and one `tsc --build` (every configuration below, in one
// process) serve every test.
import { test } from '@zkit/testing/vitest';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'consumer');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// Installs on a cold npm cache, and the tests that compile the optional native binding.
const SETUP_TIMEOUT_MS = 240_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface PackedTarball {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/** The environment of a child process, without what the `npm test` around this run put in it. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.toLowerCase().startsWith('npm_') && key !== 'NODE_OPTIONS',
    ),
  );
}

/** Runs a command to its end; a run that outlives `timeoutMs` is killed (and reports a signal). */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 60_000,
  env = cleanEnv(),
) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** `run`, failing with the command's output unless it exits 0. */
async function succeed(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd, SETUP_TIMEOUT_MS);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.code ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

/**
 * Every package installed in `project`, name → version, from the lockfile npm keeps in
 * node_modules: what a test asserts about the dependency tree a user gets.
 */
async function installedPackages(project: string): Promise<Map<string, string>> {
  const lock = JSON.parse(
    await readFile(join(project, 'node_modules/.package-lock.json'), 'utf8'),
  ) as { packages: Record<string, { version?: string }> };
  const installed = new Map<string, string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    installed.set(name, entry.version ?? '');
  }
  return installed;
}

/** The publishable packages: every directory of packages/ whose package.json is not private. */
async function publishedPackages(): Promise<string[]> {
  const dirs: string[] = [];
  for (const entry of await readdir(join(ROOT, 'packages'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const manifest = JSON.parse(
      await readFile(join(ROOT, 'packages', entry.name, 'package.json'), 'utf8'),
    ) as { private?: boolean };
    if (manifest.private !== true) dirs.push(`packages/${entry.name}`);
  }
  return dirs;
}

const STRICT = {
  strict: true,
  noEmit: true,
  types: [],
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  noUncheckedIndexedAccess: true,
};

/** Each TypeScript configuration the setup compiles, by name. */
const CONFIGS: Record<string, { files: string[]; compilerOptions: Record<string, unknown> }> = {
  // The CommonJS project's own program, emitted to out/ and run by a test.
  'commonjs, module nodenext': {
    files: ['consumer.ts'],
    compilerOptions: {
      module: 'nodenext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      types: ['node'],
      skipLibCheck: false,
      rootDir: '.',
      outDir: 'out',
    },
  },
  // A `lib` without DOM: AbortSignal and Buffer must come from the packages' own references.
  'esm, module nodenext': {
    files: ['consumer.mts'],
    compilerOptions: { ...STRICT, module: 'nodenext', lib: ['es2023'], skipLibCheck: false },
  },
  'esm, module nodenext, skipLibCheck': {
    files: ['consumer.mts'],
    compilerOptions: { ...STRICT, module: 'nodenext', lib: ['es2023'], skipLibCheck: true },
  },
  'esm, moduleResolution bundler': {
    files: ['consumer.mts'],
    compilerOptions: {
      ...STRICT,
      module: 'esnext',
      moduleResolution: 'bundler',
      skipLibCheck: false,
    },
  },
  'esm, moduleResolution bundler, skipLibCheck': {
    files: ['consumer.mts'],
    compilerOptions: {
      ...STRICT,
      module: 'esnext',
      moduleResolution: 'bundler',
      skipLibCheck: true,
    },
  },
};

/** The file name of configuration `name` in the consumer project. */
function configFile(name: string): string {
  return `tsconfig.${name.replace(/\W+/g, '-')}.json`;
}

/**
 * The errors of each configuration in the output of `tsc --build --verbose --pretty false`,
 * which announces each project ("Building project '<path>'...") before its diagnostics.
 */
function errorsByConfig(output: string): Map<string, string[]> {
  // Errors before the first project (a broken tsconfig, say) go under ''.
  let current: string[] = [];
  const errors = new Map<string, string[]>([['', current]]);
  for (const line of output.split('\n')) {
    const building = /Building project '(?:.*[\\/])?([^\\/]+)'\.\.\./.exec(line);
    if (building !== null) {
      const file = building[1] ?? '';
      const name = Object.keys(CONFIGS).find((config) => configFile(config) === file);
      current = [];
      errors.set(name ?? file, current);
    } else if (/error TS\d+/.test(line)) {
      current.push(line.trim());
    }
  }
  return errors;
}

let workDir: string;
let project: string;
let tarballDir: string;
let tarballs: PackedTarball[];
let packageNames: string[];
let compileErrors: Map<string, string[]>;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'zkit-consumer-'));
  project = join(workDir, 'project');
  tarballDir = join(workDir, 'tarballs');
  await mkdir(project);
  await mkdir(tarballDir);

  const workspaces = await publishedPackages();
  const packed = await succeed(
    'npm',
    [
      'pack',
      '--json',
      '--ignore-scripts',
      '--pack-destination',
      tarballDir,
      ...workspaces.map((dir) => `--workspace=${dir}`),
    ],
    ROOT,
  );
  tarballs = JSON.parse(packed.stdout) as PackedTarball[];
  packageNames = tarballs.map((tarball) => tarball.name);

  // What `npm init -y` writes, with the module system spelled out.
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'commonjs' }),
  );
  await succeed(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      ...tarballs.map((tarball) => join(tarballDir, tarball.filename)),
    ],
    project,
  );
  for (const file of ['consumer.cjs', 'consumer.ts', 'consumer.mts']) {
    await copyFile(join(FIXTURES, file), join(project, file));
  }
  for (const [name, config] of Object.entries(CONFIGS)) {
    await writeFile(join(project, configFile(name)), JSON.stringify(config));
  }
  const compiled = await run(
    process.execPath,
    [TSC, '--build', '--verbose', '--pretty', 'false', ...Object.keys(CONFIGS).map(configFile)],
    project,
    SETUP_TIMEOUT_MS,
  );
  compileErrors = errorsByConfig(compiled.stdout + compiled.stderr);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

it('packaging - every package is packed, and every tarball holds LICENSE, README.md and package.json but no tests', async () => {
  expect(tarballs.map((tarball) => tarball.name).sort()).toEqual(
    (await publishedPackages()).map((dir) => `@zkit/${dir.slice('packages/'.length)}`).sort(),
  );
  for (const tarball of tarballs) {
    const paths = tarball.files.map((file) => file.path);
    expect(paths, tarball.name).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js']),
    );
    expect(
      paths.filter((path) => /(^|\/)test\/|\.test\.[cm]?[jt]s$|\.tsbuildinfo$/.test(path)),
      tarball.name,
    ).toEqual([]);
  }
});

it('packaging - the installed LICENSE is the Apache-2.0 text at the repository root', async () => {
  const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
  expect(license).toContain('Apache License\n                           Version 2.0');
  for (const name of packageNames) {
    expect(await readFile(join(project, 'node_modules', name, 'LICENSE'), 'utf8'), name).toBe(
      license,
    );
  }
});

it('packaging - npm installs every package with its dependencies and @types/node for the declarations', async () => {
  const installed = await installedPackages(project);
  for (const name of packageNames) expect(installed.has(name), name).toBe(true);
  expect(installed.has('@types/node')).toBe(true);
});

test('packaging - a CommonJS program requires every package, takes and releases a Mutex and ends by itself', async ({
  zk,
}) => {
  const result = await run(process.execPath, ['consumer.cjs', zk.connectString], project);
  expect(result.stderr).toBe('');
  expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
  const report = JSON.parse(result.stdout) as Record<string, unknown>;
  expect(report).toEqual({
    exported: {
      ZkClient: 'function',
      Mutex: 'function',
      LeaderLatch: 'function',
      Barrier: 'function',
      DoubleBarrier: 'function',
      Queue: 'function',
      ServiceRegistry: 'function',
      ZooKeeperServer: 'function',
    },
    holders: 1,
    fencingToken: expect.stringMatching(/^\d+$/),
    leaseNodeLeft: false,
  });
});

test('packaging - npx zkit and npx @zkit/cli run the installed binary: help, then a stat on the server', async ({
  zk,
}) => {
  const help = await run('npx', ['--no-install', 'zkit', '--help'], project);
  expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
  expect(help.stdout).toMatch(/^Usage: zkit COMMAND PATH/);
  expect(help.stdout).toContain('\n  top ');
  // As the README says it: by the package's name, whose one binary is `zkit`.
  const byName = await run('npx', ['--no-install', '@zkit/cli', '--help'], project);
  expect({ code: byName.code, stderr: byName.stderr, stdout: byName.stdout }).toEqual({
    code: 0,
    stderr: '',
    stdout: help.stdout,
  });
  const client = await zk.client();
  await client.create('/cli', 'x');
  const stat = await run(
    'npx',
    ['--no-install', 'zkit', 'stat', '/cli', '--json'],
    project,
    60_000,
    {
      ...cleanEnv(),
      ZOOKEEPER_CONNECT: zk.connectString,
    },
  );
  expect({ code: stat.code, stderr: stat.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(stat.stdout)).toMatchObject({ path: '/cli', stat: { dataLength: 1 } });
});

test('packaging - TypeScript compiles a CommonJS consumer under module nodenext to require() calls that run', async ({
  zk,
}) => {
  expect(compileErrors.get('commonjs, module nodenext')).toEqual([]);
  const emitted = await readFile(join(project, 'out/consumer.js'), 'utf8');
  expect(emitted).toContain('require("@zkit/lock")');

  const result = await run(process.execPath, ['out/consumer.js', zk.connectString], project);
  expect(result.stderr).toBe('');
  expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
  expect(JSON.parse(result.stdout)).toEqual({
    exported: {
      LeaderLatch: 'function',
      Barrier: 'function',
      Queue: 'function',
      jsonSerializer: 'object',
      ServiceRegistry: 'function',
      ZooKeeperServer: 'function',
    },
    holders: 1,
    fencingToken: expect.stringMatching(/^\d+$/),
  });
});

it('packaging - tsc --build compiles every configuration and reports nothing outside them', () => {
  expect([...compileErrors.keys()].sort()).toEqual(['', ...Object.keys(CONFIGS)].sort());
  expect(compileErrors.get('')).toEqual([]);
});

it.each(Object.keys(CONFIGS).filter((name) => name.startsWith('esm')))(
  'packaging - an ES module consumer of every package compiles with no error under %s',
  (name) => {
    expect(compileErrors.get(name)).toEqual([]);
  },
);

describe('packaging - @zkit/lock installed alone', () => {
  let lockProject: string;
  let tarballOf: (name: string) => string;

  beforeAll(async () => {
    lockProject = join(workDir, 'lock-only');
    await mkdir(lockProject);
    tarballOf = (name) => {
      const tarball = tarballs.find((t) => t.name === name);
      if (tarball === undefined) throw new Error(`no tarball for ${name}`);
      return join(tarballDir, tarball.filename);
    };
    await writeFile(
      join(lockProject, 'package.json'),
      JSON.stringify({ name: 'lock-only', version: '1.0.0', private: true, type: 'commonjs' }),
    );
    await succeed(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        '--foreground-scripts',
        tarballOf('@zkit/core'),
        tarballOf('@zkit/lock'),
      ],
      lockProject,
    );
    await copyFile(join(FIXTURES, 'lock-only.cjs'), join(lockProject, 'lock-only.cjs'));
  }, SETUP_TIMEOUT_MS);

  /** Runs the fixture with `transport` against `connectString`: its JSON report. */
  async function lockOnly(connectString: string, transport: string) {
    const result = await run(
      process.execPath,
      ['lock-only.cjs', connectString, transport],
      lockProject,
    );
    expect(result.stderr).toBe('');
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  test('packaging - npm installs @zkit/lock with no native package, and it locks over the wire', async ({
    zk,
  }) => {
    const installed = await installedPackages(lockProject);
    expect(installed.has('@zkit/lock')).toBe(true);
    expect(installed.has('@zkit/core')).toBe(true);
    for (const native of ['zookeeper', 'node-gyp', 'node-gyp-build', 'nan', 'node-addon-api']) {
      expect(installed.has(native), native).toBe(false);
    }
    // Nothing compiled: no addon file anywhere in the tree.
    const addons = (await readdir(join(lockProject, 'node_modules'), { recursive: true })).filter(
      (file) => file.endsWith('.node') || file.endsWith('binding.gyp'),
    );
    expect(addons).toEqual([]);

    expect(await lockOnly(zk.connectString, 'wire')).toEqual({
      holders: 1,
      childSockets: 0,
      leaseNodeLeft: false,
    });
  });

  test('packaging - choosing the native transport without the binding names the install command', async ({
    zk,
  }) => {
    const report = await lockOnly(zk.connectString, 'native');
    expect(report).toEqual({
      error: {
        name: 'NativeBindingMissingError',
        code: 'NATIVE_BINDING_MISSING',
        message: expect.stringContaining('npm install zookeeper'),
        installCommand: 'CPPFLAGS=-DSOCK_CLOEXEC_ENABLED npm install zookeeper@7.3',
      },
    });
  });

  // Runs last in this group: it adds the binding to the project.
  test(
    'packaging - a binding built without close-on-exec is refused at start(), and the rebuild command in the error fixes it',
    async ({ zk }) => {
      // What `npm install zookeeper` does when nobody set the build flag.
      const env = cleanEnv();
      delete env['CPPFLAGS'];
      const install = await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--loglevel=error',
          'zookeeper@7.3',
        ],
        lockProject,
        SETUP_TIMEOUT_MS,
        env,
      );
      expect(install.code, install.stderr).toBe(0);

      const refused = await lockOnly(zk.connectString, 'native');
      expect(refused).toEqual({
        error: {
          name: 'NativeBindingUnsafeError',
          code: 'NATIVE_BINDING_UNSAFE',
          message: expect.stringContaining('-DSOCK_CLOEXEC_ENABLED'),
          rebuildCommand: expect.stringContaining('npm rebuild zookeeper'),
        },
      });

      const { rebuildCommand } = refused['error'] as { rebuildCommand: string };
      const rebuild = await run('sh', ['-c', rebuildCommand], lockProject, SETUP_TIMEOUT_MS, env);
      expect(rebuild.code, rebuild.stderr).toBe(0);

      expect(await lockOnly(zk.connectString, 'native')).toEqual({
        holders: 1,
        childSockets: 0,
        leaseNodeLeft: false,
      });
    },
    SETUP_TIMEOUT_MS,
  );
});
