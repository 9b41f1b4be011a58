import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/**
 * A worker process of the demo: one of this directory's scripts, run with `node`, sending its
 * news as IPC messages. Its output and errors go straight to the terminal.
 */
export class Worker<Message> {
  readonly process: ChildProcess;
  /** Resolves with the exit code, or `null` when a signal ended the process. */
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
  ) {
    this.process = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = once(this.process, 'exit').then(([code]) => code as number | null);
  }

  onMessage(listener: (message: Message) => void): void {
    this.process.on('message', listener);
  }

  send(message: object): void {
    this.process.send(message);
  }

  /** Asks the process to finish (SIGTERM) and waits for it; SIGKILL after 5 s. */
  async stop(): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Throws unless every process exited with code 0. */
export async function expectCleanExits(workers: readonly Worker<unknown>[]): Promise<void> {
  const codes = await Promise.all(workers.map((w) => w.exited));
  const failed = workers.filter((_, i) => codes[i] !== 0).map((w) => w.name);
  if (failed.length > 0) throw new Error(`worker processes failed: ${failed.join(', ')}`);
}
