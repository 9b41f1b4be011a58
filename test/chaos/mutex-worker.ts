/**
 * A separate Node process holding mutex sessions for the chaos suite. Started by the test with
 * `child_process.fork` (advanced serialization, so fencing tokens travel as bigints); every
 * critical section goes through the test process's store over IPC, one awaited call per step.
 */
import { ZkClient } from '@zkit/core';
import {
  holdLoop,
  type FromWorker,
  type HolderCounts,
  type SectionStart,
  type SectionStore,
  type SlowSections,
  type ToWorker,
} from './mutex.js';
import { Random } from './random.js';

const pending = new Map<number, (value: unknown) => void>();
let seq = 0;
const stop = new AbortController();
const slow: SlowSections = new Map();

function send(message: FromWorker): void {
  process.send?.(message);
}

function call(message: DistributiveOmit<Extract<FromWorker, { type: 'call' }>, 'seq'>) {
  seq += 1;
  const id = seq;
  return new Promise<unknown>((resolve) => {
    pending.set(id, resolve);
    send({ ...message, seq: id } as FromWorker);
  });
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const store: SectionStore = {
  async enter(start: SectionStart) {
    await call({ type: 'call', op: 'enter', start });
  },
  async write(id: string, fencingToken: bigint) {
    return (await call({ type: 'call', op: 'write', id, fencingToken })) === true;
  },
  async exit(id: string, aborted: boolean) {
    await call({ type: 'call', op: 'exit', id, aborted });
  },
};

async function run(init: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  const clients = init.sessions.map(
    ({ holder, connectString }) =>
      [holder, new ZkClient(connectString, { sessionTimeout: init.sessionTimeout })] as const,
  );
  await Promise.all(clients.map(([, client]) => client.start()));
  send({ type: 'ready' });
  const counts: HolderCounts[] = await Promise.all(
    clients.map(([holder, client]) =>
      holdLoop(
        client,
        holder,
        init.lockPaths,
        Random.derive(init.seed, holder),
        store,
        stop.signal,
        slow,
        init.lateWriteMs,
      ),
    ),
  );
  await Promise.all(clients.map(([, client]) => client.close()));
  send({ type: 'stopped', counts });
  process.disconnect();
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init':
      run(message).catch((error: unknown) => {
        send({ type: 'failed', error: String((error as Error)?.stack ?? error) });
        process.exit(1);
      });
      break;
    case 'reply':
      pending.get(message.seq)?.(message.value);
      pending.delete(message.seq);
      break;
    case 'slow':
      slow.set(message.holder, message.ms);
      break;
    case 'stop':
      stop.abort();
      break;
  }
});
