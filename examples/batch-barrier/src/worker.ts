/**
 * One member of a batch, run as its own process: `node dist/worker.js <name>` with `ZOOKEEPER_CONNECT`,
 * `MEMBERS` (how many workers the batch has) and `BATCH` (its name) set. Workers get ready at
 * different speeds; none starts processing before all are ready, and none reports the batch
 * done before all have finished.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '@zkit/core';
import { DoubleBarrier } from '@zkit/barrier';

const connectString = process.env['ZOOKEEPER_CONNECT'];
const batch = process.env['BATCH'];
const members = Number(process.env['MEMBERS']);
if (!connectString || !batch || !members)
  throw new Error('set ZOOKEEPER_CONNECT, BATCH and MEMBERS');
const name = process.argv[2] ?? `worker-${process.pid}`;
const log = (line: string) => console.log(`[${name}] ${line}`);

const client = new ZkClient(connectString, { sessionTimeout: 5000 });
await client.start();
try {
  const barrier = new DoubleBarrier(client, `/examples/batches/${batch}`, { members });
  await sleep(200 + Math.random() * 1000); // loading this worker's share of the input
  log('ready, waiting for the others');
  await barrier.enter({ timeout: 30_000 });
  const startedAt = Date.now();
  log('batch started');
  process.send?.({ startedAt });
  await sleep(100 + Math.random() * 600); // processing
  log('share processed, waiting for the others to finish');
  await barrier.leave({ timeout: 30_000 });
  log('batch done');
} finally {
  await client.close();
}
