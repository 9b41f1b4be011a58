import { ZkClient } from '@zkit/core';
import { Queue } from '@zkit/queue';
import { blue, chapter, green, magenta, say } from './narrator.js';

interface Job {
  readonly id: number;
  readonly task: string;
}

/** Jobs flow from a producer to three workers; each is acknowledged exactly once here. */
export async function queueChapter(connectString: string): Promise<void> {
  chapter('Jobs flow from a producer to three workers');
  const total = 12;
  const producer = new ZkClient(connectString, { sessionTimeout: 4000 });
  await producer.start();
  const clients: ZkClient[] = [producer];
  try {
    const jobs = new Queue<Job>(producer, '/demo/jobs');
    for (let id = 0; id < total; id++) await jobs.put({ id, task: `resize image ${id}` });
    say(`producer queued ${total} jobs (${await jobs.size()} waiting)`);
    const done = new Map<number, string>();
    const stop = new AbortController();
    const colours = [green, blue, magenta];
    await Promise.all(
      ['worker-1', 'worker-2', 'worker-3'].map(async (name, i) => {
        const client = new ZkClient(connectString, { sessionTimeout: 4000 });
        clients.push(client);
        await client.start();
        const queue = new Queue<Job>(client, '/demo/jobs');
        const colour = colours[i] ?? green;
        for await (const msg of queue.consume({ signal: stop.signal })) {
          say(`${colour(name)} did "${msg.value.task}"`);
          done.set(msg.value.id, name);
          await msg.ack();
          if (done.size === total) stop.abort();
        }
      }),
    );
    const perWorker = [...done.values()].reduce<Record<string, number>>((acc, w) => {
      acc[w] = (acc[w] ?? 0) + 1;
      return acc;
    }, {});
    say(
      `queue drained: ${done.size}/${total} jobs done, ${await jobs.size()} left; by worker ${JSON.stringify(perWorker)}`,
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
