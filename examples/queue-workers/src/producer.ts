/**
 * The producer, run as its own process: `node dist/producer.js` with `ZOOKEEPER_CONNECT` and `JOBS`
 * set. Queues the jobs and leaves.
 */
import { ZkClient } from '@zkit/core';
import { Queue } from '@zkit/queue';
import { QUEUE_PATH, type Job } from './job.js';

const connectString = process.env['ZOOKEEPER_CONNECT'];
if (!connectString) throw new Error('set ZOOKEEPER_CONNECT');
const jobs = Number(process.env['JOBS'] ?? 20);

const client = new ZkClient(connectString, { sessionTimeout: 5000 });
await client.start();
try {
  const queue = new Queue<Job>(client, QUEUE_PATH);
  for (let i = 1; i <= jobs; i++) await queue.put({ image: `photo-${i}.jpg` });
  console.log(`[producer] queued ${jobs} jobs`);
} finally {
  await client.close();
}
