/**
 * A worker process of the queue chapter: `queue-worker.js <connectString>`. Consumes jobs with
 * claims, acknowledges each once done, reports it over IPC, and stops on SIGTERM.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '@zkit/core';
import { Queue } from '@zkit/queue';

export interface Job {
  readonly id: number;
  readonly task: string;
}

export type QueueWorkerMessage =
  { readonly event: 'ready' } | { readonly event: 'done'; readonly job: Job };

const [connectString] = process.argv.slice(2);
if (!connectString) throw new Error('usage: queue-worker <connectString>');
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());

const client = new ZkClient(connectString, { sessionTimeout: 3000 });
await client.start();
try {
  const queue = new Queue<Job>(client, '/demo/jobs');
  process.send?.({ event: 'ready' } satisfies QueueWorkerMessage);
  for await (const message of queue.consume({ signal: stop.signal })) {
    await sleep(30 + Math.random() * 70, undefined, { signal: message.signal }); // the work
    await message.ack();
    process.send?.({ event: 'done', job: message.value } satisfies QueueWorkerMessage);
  }
} finally {
  await client.close();
  process.disconnect?.();
}
