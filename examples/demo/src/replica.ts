/**
 * One replica of a service, run as its own process by the election chapter:
 * `replica.js <connectString> <id>`. It joins a LeaderLatch, reports what happens to it over
 * IPC, and leaves the election on SIGTERM.
 */
import { ZkClient } from '@zkit/core';
import { LeaderLatch } from '@zkit/election';

export type ReplicaMessage =
  { readonly event: 'elected'; readonly token: string } | { readonly event: 'joined' | 'revoked' };

const [connectString, id] = process.argv.slice(2);
if (!connectString || !id) throw new Error('usage: replica <connectString> <id>');
const report = (message: ReplicaMessage) => process.send?.(message);

const client = new ZkClient(connectString, { sessionTimeout: 3000 });
await client.start();
const latch = new LeaderLatch(client, '/demo/election/scheduler', { id });
latch.on('elected', (term) => report({ event: 'elected', token: String(term.fencingToken) }));
latch.on('revoked', () => report({ event: 'revoked' }));
await latch.start();
report({ event: 'joined' });

process.once('SIGTERM', () => {
  void latch
    .close()
    .then(() => client.close())
    .then(() => process.disconnect?.());
});
