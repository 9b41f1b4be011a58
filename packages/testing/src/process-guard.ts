import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// Server JVMs and their temp dirs must never outlive the process that started them: a leftover
// JVM keeps its port and its sessions, and the next run's tests talk to a stranger. Everything
// spawned is registered here and killed from the process's exit and termination signals.

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Registers a child to SIGKILL if this process exits or is terminated first. */
export function guardChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  install();
}

/** Registers a directory to remove if this process exits or is terminated first. */
export function guardDir(dir: string): void {
  dirs.add(dir);
  install();
}

/** The directory was removed normally. */
export function releaseDir(dir: string): void {
  dirs.delete(dir);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanUp);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function cleanUp(): void {
  for (const child of children) {
    // SIGKILL, not SIGTERM: there is no time left to wait for a graceful shutdown, and SIGKILL
    // also ends a JVM that a test paused with SIGSTOP.
    child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of dirs) {
    try {
      // A JVM just killed may still be flushing a file for a moment; a few retries cover that.
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
    } catch {
      // Best effort at exit: nothing useful can be done with the error here.
    }
  }
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanUp();
  process.off('exit', cleanUp);
  for (const s of SIGNALS) process.off(s, onSignal);
  installed = false;
  // Listening to a signal cancels Node's default of dying from it. If nobody else handles it,
  // re-raise it with our listener gone so the process still dies, with the usual exit status.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
