/**
 * One replica of a service, run as its own process: `node dist/replica.js <name>` with
 * `ZOOKEEPER_CONNECT` set. Every replica serves HTTP; only the leader runs the scheduler and handles
 * work, and the other replicas forward requests to it. Stops on SIGTERM or SIGINT.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '@zkit/core';
import { LeaderLatch, type LeadershipTerm } from '@zkit/election';

const connectString = process.env['ZOOKEEPER_CONNECT'];
if (!connectString) throw new Error('set ZOOKEEPER_CONNECT');
const name = process.argv[2] ?? `replica-${process.pid}`;
const log = (line: string) => console.log(`[${name}] ${line}`);

/** The scheduler: runs for as long as the term lasts, and not a moment longer. */
async function runScheduler(term: LeadershipTerm): Promise<void> {
  log(`elected (fencing token ${term.fencingToken}): scheduler started`);
  try {
    for (let tick = 1; ; tick++) {
      await sleep(500, undefined, { signal: term.signal });
      log(`scheduler tick ${tick}`);
    }
  } catch {
    log('term over: scheduler stopped');
  }
}

const client = new ZkClient(connectString, { sessionTimeout: 5000 });
await client.start();

let leaderUrl: string | undefined;
const http = createServer((req, res) => {
  const reply = (status: number, body: object) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const term = latch.term;
  if (term) return reply(200, { handledBy: name, fencingToken: String(term.fencingToken) });
  if (!leaderUrl) return reply(503, { error: 'no leader right now' });
  // Not the leader: pass the request on to whoever is.
  fetch(`${leaderUrl}${req.url ?? '/'}`).then(
    async (answer) => reply(answer.status, { ...((await answer.json()) as object), via: name }),
    () => reply(502, { error: `leader at ${leaderUrl} did not answer` }),
  );
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

// The participant id is how others reach the leader: its URL.
const latch = new LeaderLatch(client, '/examples/leader-service/leader', { id: url });
latch.on('elected', (term) => void runScheduler(term));
await latch.start();

const routing = (async () => {
  for await (const leader of latch.observe()) {
    leaderUrl = leader?.id;
    log(`leader is now ${leader?.id ?? 'nobody'}`);
  }
})();

log(`serving on ${url}`);
process.send?.({ url });

const shutdown = async () => {
  await latch.close();
  await routing;
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  await client.close();
  process.disconnect?.();
  log('stopped');
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
