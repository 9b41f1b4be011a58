import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Drives a Python process running kazoo 2.8 recipes (kazoo/agent.py), so tests can check that
 * zkit and kazoo coordinate on the same znodes. Uses Debian's `python3-kazoo` through
 * `/usr/bin/python3` (a `python3` found on PATH may be another installation without kazoo).
 */

/** One line the agent printed. */
export interface KazooEvent {
  event: string;
  [field: string]: unknown;
}

export interface KazooAgent {
  /** Sends one command; resolves with its `ack`, rejects with the agent's error. */
  send(cmd: string, ...args: unknown[]): Promise<KazooEvent>;
  /** Every asynchronous event so far (partition state changes), oldest first. */
  readonly events: readonly KazooEvent[];
  /** Closes stdin (the agent finishes its recipes and its session) and waits for the exit. */
  close(): Promise<void>;
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./kazoo/agent.py', import.meta.url));

export async function startKazooAgent(connectString: string): Promise<KazooAgent> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install python3-kazoo`);
  const child = spawn(PYTHON, [SCRIPT, connectString], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map<
    number,
    { resolve: (e: KazooEvent) => void; reject: (e: Error) => void }
  >();
  const events: KazooEvent[] = [];
  let ready!: () => void;
  let failed!: (e: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    const error = new Error('the kazoo agent exited');
    failed(error);
    for (const p of pending.values()) p.reject(error);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as KazooEvent;
    if (event.event === 'ready') return ready();
    const id = event['id'];
    if (typeof id === 'number' && pending.has(id)) {
      const p = pending.get(id)!;
      pending.delete(id);
      if (event.event === 'error') p.reject(new Error(String(event['error'])));
      else p.resolve(event);
      return;
    }
    events.push(event);
  });
  await started;
  let next = 0;
  return {
    events,
    send(cmd, ...args) {
      const id = next++;
      return new Promise<KazooEvent>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, cmd, args })}\n`);
      });
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}
