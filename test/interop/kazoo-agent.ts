/**
 * Drives `kazoo/lease_agent.py` (kazoo 2.8 from Debian's `python3-kazoo`, run by the system
 * interpreter `/usr/bin/python3`) from a vitest test: one kazoo session per agent, JSON lines
 * both ways.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The interpreter that has kazoo (a `python3` earlier on PATH may not). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./kazoo/lease_agent.py', import.meta.url));

/** One reply of the agent: the request's id and its result fields. */
export type KazooReply = Record<string, unknown>;

export interface KazooAgent {
  /** Sends one command and resolves with its reply; rejects when the agent reports an error. */
  send(cmd: string, args: Record<string, unknown>): Promise<KazooReply>;
  /** Ends the agent (its session closes) and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * Starts the agent on `connectString` (chroot included) and resolves once its session is
 * connected.
 * @throws when `/usr/bin/python3` or the agent script is missing, or the agent does not start
 */
export async function startKazooAgent(connectString: string): Promise<KazooAgent> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install python3-kazoo`);
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [SCRIPT, connectString], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const pending = new Map<number, { resolve(r: KazooReply): void; reject(e: Error): void }>();
  let onReady: () => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code) => {
    const error = new Error(`kazoo agent exited (${code}): ${stderr.trim()}`);
    onFail(error);
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const reply = JSON.parse(line) as KazooReply;
    if (reply.event === 'ready') return onReady();
    const waiter = pending.get(reply.id as number);
    if (waiter === undefined) return;
    pending.delete(reply.id as number);
    if (typeof reply.error === 'string') waiter.reject(new Error(`kazoo: ${reply.error}`));
    else waiter.resolve(reply);
  });
  await ready;
  let nextId = 1;
  return {
    send(cmd, args) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
      });
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}
