import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '@zkit/core';
import { Mutex } from '@zkit/lock';
import { blue, chapter, green, magenta, red, say } from './narrator.js';

/**
 * Two workers serialise jobs with one Mutex. A toy store accepts a write only with a fencing token
 * higher than any it has seen — the check that makes a lock safe when a holder stalls.
 */
export async function lockChapter(connectString: string): Promise<void> {
  chapter('Two workers, one lock, fencing tokens');
  let highest = -1n;
  const store = (worker: string, job: number, token: bigint) => {
    if (token <= highest) {
      say(red(`store rejected ${worker}'s write for job ${job}: token ${token} ≤ ${highest}`));
      return;
    }
    highest = token;
    say(`  store accepted job ${job} from ${worker} with token ${magenta(String(token))}`);
  };
  const colours = [green, blue];
  const workers = ['worker-a', 'worker-b'].map(async (name, i) => {
    const client = new ZkClient(connectString, { sessionTimeout: 4000 });
    await client.start();
    const mutex = new Mutex(client, '/demo/locks/invoices');
    const colour = colours[i] ?? green;
    try {
      for (let job = 0; job < 3; job++) {
        await using lease = await mutex.acquire({ timeout: 10_000 });
        say(`${colour(name)} holds the lock (${lease.path.split('/').pop()})`);
        await sleep(50, undefined, { signal: lease.signal });
        store(name, i * 10 + job, lease.fencingToken);
      }
    } finally {
      await client.close();
    }
  });
  await Promise.all(workers);
  say(`6 jobs done, each under the lock, fencing tokens strictly increasing`);
}
