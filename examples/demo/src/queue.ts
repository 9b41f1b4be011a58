import { ZkClient } from '@zkit/core';
import { Queue } from '@zkit/queue';
import { Worker, expectCleanExits } from './processes.js';
import type { Job, QueueWorkerMessage } from './queue-worker.js';
import { blue, chapter, green, magenta, say } from './narrator.js';

/** Jobs flow from a producer to three worker processes; each is acknowledged once done. */
export async function queueChapter(connectString: string): Promise<string> {
  chapter('Jobs flow from a producer to three worker processes');
  const total = 12;
  const producer = new ZkClient(connectString, { sessionTimeout: 4000 });
  await producer.start();
  const colours = [green, blue, magenta];
  const byWorker = new Map<string, number>();
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const ready: Promise<void>[] = [];
  const workers = ['worker-1', 'worker-2', 'worker-3'].map((name, i) => {
    const worker = new Worker<QueueWorkerMessage>(name, 'queue-worker.js', [connectString]);
    ready.push(
      new Promise((resolve, reject) => {
        worker.onMessage((m) => m.event === 'ready' && resolve());
        void worker.exited.then((code) => reject(new Error(`${name} exited with ${code}`)));
      }),
    );
    worker.onMessage((m) => {
      if (m.event !== 'done') return;
      const { job } = m;
      byWorker.set(name, (byWorker.get(name) ?? 0) + 1);
      say(`${(colours[i] ?? green)(name)} did "${job.task}" and acknowledged it`);
      if ([...byWorker.values()].reduce((a, b) => a + b, 0) === total) allDone();
    });
    return worker;
  });
  try {
    await Promise.all(ready);
    say('three worker processes are waiting for jobs');
    const jobs = new Queue<Job>(producer, '/demo/jobs');
    for (let id = 0; id < total; id++) await jobs.put({ id, task: `resize image ${id}` });
    say(`producer queued ${total} jobs (${await jobs.size()} waiting)`);
    const timeout = setTimeout(() => allDone(), 20_000);
    await finished;
    clearTimeout(timeout);
    const left = await jobs.size();
    const split = [...byWorker].map(([w, n]) => `${w} ${n}`).join(', ');
    say(`queue drained: ${total - left}/${total} jobs done, ${left} left (${split})`);
    await Promise.all(workers.map((w) => w.stop()));
    await expectCleanExits(workers);
    if (left !== 0) throw new Error(`${left} jobs left in the queue`);
    return `${total} jobs drained by 3 processes (${split})`;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await producer.close();
  }
}
