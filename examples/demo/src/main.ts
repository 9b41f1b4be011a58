/**
 * `npm run demo`: starts a real ZooKeeper server on a free local port and walks through what zkit
 * does, narrating as it goes. Needs Java and ZooKeeper (installed by `bash .ci/setup` on
 * Debian/Ubuntu).
 */
import { ZooKeeperServer } from '@zkit/testing';
import { barrierChapter } from './barrier.js';
import { electionChapter } from './election.js';
import { lockChapter } from './lock.js';
import { queueChapter } from './queue.js';
import { registryChapter } from './registry.js';
import { bold, chapter, green, red, say } from './narrator.js';
import { sessionChapter } from './session.js';

async function main(): Promise<void> {
  chapter('Starting a local ZooKeeper server');
  const t0 = performance.now();
  const server = await ZooKeeperServer.start();
  say(
    `ZooKeeper is serving on ${bold(server.connectString)} after ${Math.round(performance.now() - t0)} ms`,
  );
  try {
    await sessionChapter(server);
    await lockChapter(server.connectString);
    await electionChapter(server.connectString);
    await barrierChapter(server.connectString);
    await queueChapter(server.connectString);
    await registryChapter(server.connectString);
  } finally {
    await server.stop();
  }
  chapter('Done');
  say(green('every step ran against a real ZooKeeper server; it has been stopped'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${red('demo failed:')} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
