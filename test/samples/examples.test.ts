/**
 * The example programs run as their READMEs say (`npm start -w @zkit/example-…` runs
 * `node dist/main.js`) and exit 0 by themselves: each checks its own outcome (a counter, a batch
 * that started together, every job done once, …) and exits non-zero when it is wrong. They use
 * the test run's server, each in a chroot of its own.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { ephemeralNodes } from '../chaos/harness.js';
import { NODE_WARNING, runNode, start, STACK_LINE } from './run.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = ['batch-barrier', 'http-service', 'job-worker', 'leader-service', 'queue-workers'];
/** How long one example may take before it counts as hanging. */
const RUN_TIMEOUT = 60_000;

test.for(EXAMPLES)(
  'examples - %s runs to the end by itself and exits 0',
  { concurrent: true, timeout: RUN_TIMEOUT + 10_000 },
  async (name, { zk }) => {
    const result = await runNode(join(ROOT, 'examples', name, 'dist/main.js'), {
      env: { ZOOKEEPER_CONNECT: zk.connectString },
      timeout: RUN_TIMEOUT,
    });
    const context = `${name} (${Math.round(result.ms)} ms)\n${result.output}`;
    expect(result.hung, `hangs: ${context}`).toBe(false);
    expect(result.code, context).toBe(0);
    expect(STACK_LINE.test(result.output), `prints a stack trace: ${context}`).toBe(false);
    expect(NODE_WARNING.test(result.output), `makes Node.js warn: ${context}`).toBe(false);
    const observer = await zk.client();
    expect(await ephemeralNodes(observer, '/')).toEqual([]);
  },
);

test('examples - job-worker by hand: a store, then one worker against it, as the README shows', async ({
  zk,
}) => {
  const dist = join(ROOT, 'examples/job-worker/dist');
  let storeUrl: string | undefined;
  let storeOutput = '';
  const store = start(process.execPath, [join(dist, 'store-server.js')], {
    args: ['0'], // a free port: the README's 8080 may be taken
    timeout: RUN_TIMEOUT,
    onOutput: (output) => {
      storeOutput = output;
      storeUrl ??= /store at (\S+)/.exec(output)?.[1];
    },
  });
  const url = await waitFor(() => storeUrl, { timeout: 20_000, message: 'the store to listen' });
  const worker = await runNode(join(dist, 'worker.js'), {
    args: ['worker-1'],
    env: { ZOOKEEPER_CONNECT: zk.connectString, STORE_URL: url, JOBS: '3' },
    timeout: RUN_TIMEOUT,
  });
  expect(worker.code, worker.output).toBe(0);
  expect(worker.output).toContain('[worker-1] counter → 3');
  store.child.kill('SIGINT'); // Ctrl-C
  const stopped = await store.done;
  expect(stopped.code, storeOutput).toBe(0);
  expect(stopped.output).toContain('counter = 3, stale writes refused: 0');
});
