import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs `npm run demo` from the repository root as a newcomer does; resolves with its output. */
function runDemo(): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'demo'], {
      cwd: ROOT,
      // The demo starts its own server: a connect string meant for tests must not redirect it.
      env: { ...process.env, ZOOKEEPER_CONNECT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines: out.split('\n') }));
  });
}

test('demo - npm run demo starts with the demo, runs every step against a real server, shows zkit top over its recipes and ends with its summary', async () => {
  const { code, lines } = await runDemo();
  expect(code, lines.join('\n')).toBe(0);
  // npm's own two-line header, then the demo: no build output in between.
  const content = lines.filter((l) => l.trim() !== '' && !l.startsWith('> '));
  expect(content[0]).toBe('▸ Starting a local ZooKeeper server');
  const summary = lines.findIndex((l) => /^step\s+took\s+what happened/.test(l));
  expect(summary).toBeGreaterThan(0);
  const steps = lines
    .slice(summary + 2)
    .map((l) => l.split(/\s+/)[0])
    .filter(Boolean);
  expect(steps).toEqual(['session', 'lock', 'election', 'barrier', 'queue', 'registry', 'top']);
  // It ends with zkit top over the demo's recipes, before the summary.
  const top = lines.indexOf('$ zkit top /demo --once');
  expect(top).toBeGreaterThan(0);
  expect(top).toBeLessThan(summary);
  const view = lines.slice(top + 1, summary);
  expect(view[0]).toMatch(/^zkit top \/demo {2}127\.0\.0\.1:\d+ {2}/);
  expect(view[1]).toBe('4 recipes: 1 lock, 1 election, 1 queue, 1 service base');
  for (const section of [
    /^election \/demo\/election\/scheduler: leader replica-1, 1 follower$/,
    /^queue \/demo\/jobs: 3 items, oldest \d+s \(queue-\d{10}\), 0 claimed$/,
    /^lock \/demo\/locks\/ledger: held, 1 waiter, fencing token \d+\.\.\d+$/,
    /^services \/demo\/services: 1 service, 1 instance$/,
  ]) {
    expect(
      view.some((l) => section.test(l)),
      String(section),
    ).toBe(true);
  }
}, 120_000);
