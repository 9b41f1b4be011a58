/**
 * `npm start -w @zkit/example-queue-workers`: runs a producer and three consumers, each in its
 * own process, over one queue, and stops the consumers once the queue is drained. Uses the
 * ZooKeeper at `ZOOKEEPER_CONNECT`, or starts a throwaway local server when it is unset.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ZkClient } from '@zkit/core';
import { Queue } from '@zkit/queue';
import { ZooKeeperServer, externalConnectString } from '@zkit/testing';

const JOBS = 20;
const CONSUMERS = 3;

// Refuses a connect string under another name (ZK_CONNECT, ZOOKEEPER) rather than ignore it.
const external = externalConnectString();
const server = external ? undefined : await ZooKeeperServer.start();
const queueName = `thumbnails-${Date.now()}`;
const env = {
  ZOOKEEPER_CONNECT: external ?? server?.connectString ?? '',
  QUEUE: queueName,
  JOBS: String(JOBS),
};
let done = 0;

function start(script: string, args: string[] = []): ChildProcess {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL(script, import.meta.url)), ...args],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    },
  );
  child.on('message', (m: { done: number }) => (done += m.done));
  return child;
}

async function exitCode(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? 1;
}

const watcher = new ZkClient(env.ZOOKEEPER_CONNECT, { sessionTimeout: 5000 });
const consumers = Array.from({ length: CONSUMERS }, (_, i) =>
  start('consumer.js', [`consumer-${i + 1}`]),
);
try {
  await watcher.start();
  if ((await exitCode(start('producer.js'))) !== 0) throw new Error('the producer failed');
  // An item leaves the queue only when acknowledged: an empty queue means every job is done.
  const queue = new Queue<unknown>(watcher, `/examples/queues/${queueName}`);
  while ((await queue.size()) > 0) await sleep(100);
  console.log('queue drained; stopping the consumers');
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const consumer of consumers) consumer.kill('SIGTERM');
  const codes = await Promise.all(consumers.map(exitCode));
  console.log(`${done} of ${JOBS} jobs rendered and acknowledged`);
  if (codes.some((code) => code !== 0) || done !== JOBS) process.exitCode = 1;
  await watcher.close();
  await server?.stop();
}
