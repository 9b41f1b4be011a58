import { main } from '@zkit/cli';
import { ZkClient } from '@zkit/core';
import { LeaderLatch } from '@zkit/election';
import { Mutex } from '@zkit/lock';
import { Queue } from '@zkit/queue';
import { ServiceRegistry } from '@zkit/registry';
import { waitFor } from '@zkit/testing';
import { chapter, say } from './narrator.js';

/**
 * What an operator sees: the demo's recipes at work once more (a lock with a waiter, an
 * election, jobs waiting, a registered service), then `zkit top /demo --once` over them.
 */
export async function topChapter(connectString: string): Promise<string> {
  chapter('What an operator sees: zkit top /demo');
  const clients = [0, 1].map(() => new ZkClient(connectString, { sessionTimeout: 4000 }));
  const [a, b] = clients as [ZkClient, ZkClient];
  await Promise.all(clients.map((c) => c.start()));
  const latches = [
    new LeaderLatch(a, '/demo/election/scheduler', { id: 'replica-1' }),
    new LeaderLatch(b, '/demo/election/scheduler', { id: 'replica-2' }),
  ];
  const registry = new ServiceRegistry(a, { basePath: '/demo/services' });
  try {
    const lease = await new Mutex(a, '/demo/locks/ledger', { data: 'worker-a' }).acquire();
    const waiter = new Mutex(b, '/demo/locks/ledger', { data: 'worker-b' });
    const waiting = waiter.acquire();
    for (const latch of latches) await latch.start();
    const jobs = new Queue<{ id: number; task: string }>(a, '/demo/jobs');
    for (let id = 100; id < 103; id++) await jobs.put({ id, task: `resize image ${id}` });
    await registry.register({ name: 'api', id: 'api-8081', address: '127.0.0.1', port: 8081 });
    // The waiter's node is there once its acquire has queued it behind the holder.
    await waitFor(async () => (await a.getChildren('/demo/locks/ledger')).length === 2);
    say('a lock held and waited for, an election, three jobs waiting, one service; then:');
    process.stdout.write('\n$ zkit top /demo --once\n');
    const code = await main(['top', '/demo', '--once', '--server', connectString], {
      stdout: process.stdout,
      stderr: process.stderr,
      env: {},
    });
    if (code !== 0) throw new Error(`zkit top exited with ${code}`);
    await lease.release();
    await (await waiting).release();
    return 'zkit top /demo showed the lock, the election, the queue and the service';
  } finally {
    await Promise.all([...latches.map((l) => l.close()), registry.close()]);
    await Promise.all(clients.map((c) => c.close()));
  }
}
