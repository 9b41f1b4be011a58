/**
 * A worker process of the lock chapter: `lock-worker.js <connectString> <name> <jobs>`. Each job
 * is done under the mutex and written to the demo's store (over IPC) with the lease's fencing
 * token. When the demo answers an `acquired` message with `freeze`, the process stops itself
 * (SIGSTOP) while holding the lock, as a long GC pause or a frozen VM would, and carries on when
 * the demo resumes it.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '@zkit/core';
import { Mutex } from '@zkit/lock';

export type LockWorkerMessage =
  | { readonly event: 'acquired' | 'write'; readonly token: string }
  | { readonly event: 'freezing' | 'lost' };

const [connectString, name, jobsArg] = process.argv.slice(2);
if (!connectString || !name) throw new Error('usage: lock-worker <connectString> <name> <jobs>');
const jobs = Number(jobsArg ?? 3);
const send = (message: LockWorkerMessage, then?: () => void) =>
  process.send?.(message, undefined, undefined, then);
/** Sends a message and waits for the demo's answer. */
async function ask<T>(message: LockWorkerMessage): Promise<T> {
  const answer = once(process, 'message') as Promise<[T]>;
  send(message);
  return (await answer)[0];
}

const client = new ZkClient(connectString, { sessionTimeout: 3000 });
await client.start();
const mutex = new Mutex(client, '/demo/locks/ledger', { data: name });
try {
  for (let job = 1; job <= jobs;) {
    await using lease = await mutex.acquire({ timeout: 20_000 });
    const token = String(lease.fencingToken);
    const { freeze } = await ask<{ freeze: boolean }>({ event: 'acquired', token });
    if (freeze) send({ event: 'freezing' }, () => process.kill(process.pid, 'SIGSTOP'));
    try {
      await sleep(200, undefined, { signal: lease.signal }); // the job's work
      const { accepted } = await ask<{ accepted: boolean }>({ event: 'write', token });
      if (accepted) job++;
    } catch {
      send({ event: 'lost' }); // lease.signal aborted: stop, and do the job again under a new lease
    }
  }
} finally {
  await client.close();
  process.disconnect?.();
}
