/**
 * `npm start -w @zkit/example-job-worker`: runs three job workers, each in its own process, over
 * one shared store. Uses the ZooKeeper at `ZOOKEEPER_CONNECT`, or starts a throwaway local server when
 * it is unset.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer, externalConnectString } from '@zkit/testing';
import { FencedStore } from './store.js';

const WORKERS = 3;
const JOBS = 5;

function run(script: string, args: string[], env: Record<string, string>): Promise<number> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL(script, import.meta.url)), ...args],
    {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    },
  );
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

// Refuses a connect string under another name (ZK_CONNECT, ZOOKEEPER) rather than ignore it.
const external = externalConnectString();
const server = external ? undefined : await ZooKeeperServer.start();
const connectString = external ?? server?.connectString ?? '';
const store = new FencedStore();
try {
  const env = {
    ZOOKEEPER_CONNECT: connectString,
    STORE_URL: await store.listen(),
    JOBS: String(JOBS),
  };
  console.log(`ZooKeeper at ${connectString}; store at ${env.STORE_URL}`);
  const codes = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) => run('worker.js', [`worker-${i + 1}`], env)),
  );
  const expected = WORKERS * JOBS;
  console.log(
    `counter = ${store.value} (expected ${expected}), stale writes refused: ${store.rejected}`,
  );
  if (codes.some((code) => code !== 0) || store.value !== expected) process.exitCode = 1;
} finally {
  await store.close();
  await server?.stop();
}
