/**
 * `npm start -w @zkit/example-batch-barrier`: runs a batch of four workers, each in its own
 * process, through a double barrier. Uses the ZooKeeper at `ZOOKEEPER_CONNECT`, or starts a throwaway
 * local server when it is unset.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer, externalConnectString } from '@zkit/testing';

const MEMBERS = 4;

// Refuses a connect string under another name (ZK_CONNECT, ZOOKEEPER) rather than ignore it.
const external = externalConnectString();
const server = external ? undefined : await ZooKeeperServer.start();
const env = {
  ZOOKEEPER_CONNECT: external ?? server?.connectString ?? '',
  BATCH: `batch-${Date.now()}`,
  MEMBERS: String(MEMBERS),
};
try {
  const script = fileURLToPath(new URL('worker.js', import.meta.url));
  const starts: number[] = [];
  const codes = await Promise.all(
    Array.from({ length: MEMBERS }, async (_, i) => {
      const child = spawn(process.execPath, [script, `worker-${i + 1}`], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, ...env },
      });
      child.on('message', (m: { startedAt: number }) => starts.push(m.startedAt));
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    }),
  );
  const spread = Math.max(...starts) - Math.min(...starts);
  console.log(`${starts.length} of ${MEMBERS} workers started the batch within ${spread} ms`);
  if (codes.some((code) => code !== 0) || starts.length !== MEMBERS) process.exitCode = 1;
} finally {
  await server?.stop();
}
