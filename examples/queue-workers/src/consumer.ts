/**
 * A consumer, run as its own process: `node dist/consumer.js <name>` with `ZOOKEEPER_CONNECT` set; it
 * runs until SIGTERM or SIGINT. Each item is claimed while it is processed and deleted only when
 * acknowledged: if this process dies midway, its claims go with its session and the items are
 * delivered to another consumer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '@zkit/core';
import { Queue } from '@zkit/queue';
import { QUEUE_PATH, type Job } from './job.js';

const connectString = process.env['ZOOKEEPER_CONNECT'];
if (!connectString) throw new Error('set ZOOKEEPER_CONNECT');
const name = process.argv[2] ?? `consumer-${process.pid}`;

const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());

const client = new ZkClient(connectString, { sessionTimeout: 5000 });
await client.start();
let done = 0;
try {
  const queue = new Queue<Job>(client, QUEUE_PATH);
  // Ends when `stop` aborts; a message not yet acknowledged then is given back to the queue.
  for await (const message of queue.consume({ signal: stop.signal })) {
    try {
      // The claim's signal aborts if the claim can no longer be trusted (connection suspended,
      // session lost): the item may then go to another consumer, so stop working on it.
      await sleep(20 + Math.random() * 60, undefined, { signal: message.signal }); // rendering
    } catch {
      console.log(`[${name}] claim on ${message.value.image} lost; it will be delivered again`);
      continue;
    }
    await message.ack();
    done++;
    console.log(`[${name}] rendered ${message.value.image}`);
  }
  console.log(`[${name}] stopping after ${done} jobs`);
  process.send?.({ done });
} finally {
  await client.close();
  process.disconnect?.();
}
