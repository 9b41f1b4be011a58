/**
 * One replica of a service, run as its own process by the election chapter: it joins a
 * LeaderLatch and reports what happens to it as JSON lines on stdout.
 */
import { ZkClient } from '@zkit/core';
import { LeaderLatch } from '@zkit/election';

const [connectString, id] = process.argv.slice(2);
if (!connectString || !id) throw new Error('usage: replica <connectString> <id>');

const report = (event: string, extra: Record<string, string> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, id, ...extra })}\n`);

const client = new ZkClient(connectString, { sessionTimeout: 4000 });
await client.start();
const latch = new LeaderLatch(client, '/demo/election/scheduler', { id });
latch.on('elected', (term) => report('elected', { token: String(term.fencingToken) }));
latch.on('revoked', () => report('revoked'));
await latch.start();
report('joined', { session: client.sessionId ?? '' });

// Runs until the demo kills it (or asks it to stop on stdin closing).
process.stdin.on('end', () => {
  void latch.close().then(() => client.close());
});
process.stdin.resume();
