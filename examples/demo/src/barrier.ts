import { ZkClient } from '@zkit/core';
import { DoubleBarrier } from '@zkit/barrier';
import { blue, chapter, say } from './narrator.js';

/** A batch of workers that start together and finish together. */
export async function barrierChapter(connectString: string): Promise<string> {
  chapter('A batch of five workers starts together');
  const members = 5;
  const clients = await Promise.all(
    Array.from({ length: members }, async () => {
      const client = new ZkClient(connectString, { sessionTimeout: 4000 });
      await client.start();
      return client;
    }),
  );
  try {
    const entered: number[] = [];
    await Promise.all(
      clients.map(async (client, i) => {
        // Workers arrive at different moments…
        await new Promise((resolve) => setTimeout(resolve, i * 150));
        say(`worker-${i} arrives at the barrier`);
        const barrier = new DoubleBarrier(client, '/demo/batch/round-1', { members });
        await barrier.enter({ timeout: 20_000 });
        entered.push(performance.now());
        await barrier.leave({ timeout: 20_000 });
      }),
    );
    const spread = Math.max(...entered) - Math.min(...entered);
    say(
      blue(`…and all ${members} passed the barrier within ${spread.toFixed(0)} ms of each other`),
    );
    return `${members} workers started within ${spread.toFixed(0)} ms of each other`;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
