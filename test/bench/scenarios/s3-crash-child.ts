/**
 * The crashing leader of S3-crash (SCENARIOS.md "S3‑crash"), run as a child OS process by
 * `s3-election.ts`: opens a 4000 ms session, joins the election, prints
 * `LEADER <negotiated session timeout ms> <session id>` once elected, then sleeps until it is
 * killed (or exits by itself after 120 s).
 *
 * Usage: node s3-crash-child.js <connectString> <electionPath>
 */
import { ZkClient } from '@zkit/core';
import { LeaderLatch } from '@zkit/election';

const [connectString, path] = process.argv.slice(2);
if (connectString === undefined || path === undefined) {
  process.stderr.write('usage: s3-crash-child <connectString> <electionPath>\n');
  process.exit(2);
}

setTimeout(() => process.exit(0), 120_000);
const client = new ZkClient(connectString, { sessionTimeout: 4000 });
await client.start();
const latch = new LeaderLatch(client, path, { id: `crash-child-${process.pid}` });
latch.on('elected', () => {
  process.stdout.write(`LEADER ${client.sessionTimeout} ${client.sessionId}\n`);
});
await latch.start();
