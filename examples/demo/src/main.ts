/**
 * `npm run demo`: starts a real ZooKeeper server on a free local port and walks through what zkit
 * does, narrating as it goes; the lock, election and queue workers are separate processes. It
 * ends with `zkit top`, the view an operator has of such recipes.
 * Needs Java and ZooKeeper (installed by `bash .ci/setup` on Debian/Ubuntu).
 */
import { ZooKeeperServer } from '@zkit/testing';
import { barrierChapter } from './barrier.js';
import { electionChapter } from './election.js';
import { lockChapter } from './lock.js';
import { queueChapter } from './queue.js';
import { registryChapter } from './registry.js';
import { bold, chapter, green, red, say, table } from './narrator.js';
import { sessionChapter } from './session.js';
import { topChapter } from './top.js';

async function main(): Promise<void> {
  chapter('Starting a local ZooKeeper server');
  const t0 = performance.now();
  const server = await ZooKeeperServer.start();
  say(
    `ZooKeeper is serving on ${bold(server.connectString)} after ${Math.round(performance.now() - t0)} ms`,
  );
  const summary: string[][] = [];
  const step = async (name: string, run: () => Promise<string>) => {
    const start = performance.now();
    const outcome = await run();
    summary.push([name, `${((performance.now() - start) / 1000).toFixed(1)} s`, outcome]);
  };
  try {
    await step('session', () => sessionChapter(server));
    await step('lock', () => lockChapter(server.connectString));
    await step('election', () => electionChapter(server.connectString));
    await step('barrier', () => barrierChapter(server.connectString));
    await step('queue', () => queueChapter(server.connectString));
    await step('registry', () => registryChapter(server.connectString));
    await step('top', () => topChapter(server.connectString));
  } finally {
    await server.stop();
  }
  chapter('Done');
  say(green('every step ran against a real ZooKeeper server; it has been stopped'));
  table(['step', 'took', 'what happened'], summary);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${red('demo failed:')} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
