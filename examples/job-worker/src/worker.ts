/**
 * One job worker, run as its own process: `node dist/worker.js <name>` with `ZOOKEEPER_CONNECT` and
 * `STORE_URL` set. Each job is a read-modify-write of a shared counter; without the lock two
 * workers would read the same value and one increment would be lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '@zkit/core';
import { Mutex } from '@zkit/lock';

const connectString = process.env['ZOOKEEPER_CONNECT'];
const storeUrl = process.env['STORE_URL'];
if (!connectString || !storeUrl) throw new Error('set ZOOKEEPER_CONNECT and STORE_URL');
const name = process.argv[2] ?? `worker-${process.pid}`;
const jobs = Number(process.env['JOBS'] ?? 5);
const log = (line: string) => console.log(`[${name}] ${line}`);

class StaleTokenError extends Error {}

/** The job: read the counter, work on it for a while, write it back with our fencing token. */
async function increment(fencingToken: bigint, signal: AbortSignal): Promise<number> {
  const read = await fetch(`${storeUrl}/counter`, { signal });
  const { value } = (await read.json()) as { value: number };
  await sleep(20 + Math.random() * 40, undefined, { signal });
  const write = await fetch(`${storeUrl}/counter`, {
    method: 'PUT',
    headers: { 'fencing-token': String(fencingToken) },
    body: JSON.stringify({ value: value + 1 }),
    signal,
  });
  if (write.status === 409) throw new StaleTokenError(await write.text());
  if (!write.ok) throw new Error(`store answered ${write.status}`);
  return value + 1;
}

const client = new ZkClient(connectString, { sessionTimeout: 5000 });
await client.start();
const mutex = new Mutex(client, '/examples/job-worker/counter', { data: name });
try {
  for (let done = 0; done < jobs;) {
    await using lease = await mutex.acquire({ timeout: 30_000 });
    try {
      // Everything the job does gets the lease's signal: if the lock is lost midway (connection
      // suspended, session expired, node deleted), the job stops instead of carrying on unlocked.
      const value = await increment(lease.fencingToken, lease.signal);
      log(`counter → ${value} (fencing token ${lease.fencingToken})`);
      done++;
    } catch (error) {
      // Either way the job was not done; it is tried again under a new lease.
      if (lease.signal.aborted) {
        log(`lock lost, job stopped: ${String(lease.signal.reason)}`);
      } else if (error instanceof StaleTokenError) {
        log(`store refused a stale token: ${error.message}`);
      } else {
        throw error;
      }
    }
  }
} finally {
  await client.close();
}
