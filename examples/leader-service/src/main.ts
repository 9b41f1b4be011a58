/**
 * `npm start -w @zkit/example-leader-service`: runs three replicas in separate processes, sends
 * requests to each of them, stops the leader and shows the next one take over. Uses the
 * ZooKeeper at `ZOOKEEPER_CONNECT`, or starts a throwaway local server when it is unset.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer, externalConnectString } from '@zkit/testing';

interface Replica {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
}

async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const script = fileURLToPath(new URL('replica.js', import.meta.url));
  const child = spawn(process.execPath, [script, name], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  // The replica sends its URL once it serves and has joined the election.
  const message = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before serving`)));
  });
  return { name, url: message.url, process: child };
}

async function stop(replica: Replica): Promise<void> {
  const exited = once(replica.process, 'exit');
  replica.process.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`${replica.name} exited with ${code}`);
}

interface Answer {
  readonly handledBy?: string;
  readonly via?: string;
}

async function ask(replica: Replica): Promise<Answer> {
  const answer = await fetch(`${replica.url}/work`);
  return (await answer.json()) as Answer;
}

function show(replica: Replica, answer: Answer): void {
  const via = answer.via ? ` (forwarded by ${answer.via})` : '';
  console.log(`request to ${replica.name} → handled by ${answer.handledBy}${via}`);
}

// Refuses a connect string under another name (ZK_CONNECT, ZOOKEEPER) rather than ignore it.
const external = externalConnectString();
const server = external ? undefined : await ZooKeeperServer.start();
const env = { ZOOKEEPER_CONNECT: external ?? server?.connectString ?? '' };
const replicas: Replica[] = [];
try {
  for (const name of ['replica-1', 'replica-2', 'replica-3']) {
    replicas.push(await startReplica(name, env));
  }
  await sleep(1200); // let the leader's scheduler tick a couple of times
  let leader: string | undefined;
  for (const replica of replicas) {
    const answer = await ask(replica);
    show(replica, answer);
    leader = answer.handledBy;
  }
  const old = replicas.find((r) => r.name === leader);
  if (!old) throw new Error('no replica handled the requests');
  console.log(`stopping the leader, ${old.name}`);
  await stop(old);
  replicas.splice(replicas.indexOf(old), 1);
  // The followers learn about the new leader from their observe() loops within milliseconds.
  for (const deadline = Date.now() + 10_000; ; await sleep(100)) {
    const answer = await ask(replicas[0]!).catch(() => ({ handledBy: undefined }));
    if (answer.handledBy !== undefined && answer.handledBy !== old.name) break;
    if (Date.now() > deadline) throw new Error('no new leader within 10 s');
  }
  await sleep(1200);
  for (const replica of replicas) show(replica, await ask(replica));
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await Promise.all(replicas.map(stop));
  await server?.stop();
}
