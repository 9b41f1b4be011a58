/**
 * Runs a program as a user would from a terminal, with a bound on how long it may take: a
 * program that does not exit by itself in time is killed and reported as hanging.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** How one run ended. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they arrived. */
  readonly output: string;
  readonly stderr: string;
  /** True when it was killed for outliving `timeout`. */
  readonly hung: boolean;
  readonly ms: number;
}

/** How to run it. */
export interface RunOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Sends SIGINT (Ctrl-C) once the output contains this text. */
  readonly interruptWhen?: string;
  /** Kills the program (SIGKILL) after this many ms; default 30 000. */
  readonly timeout?: number;
  /** Called with all the output so far, each time more arrives. */
  readonly onOutput?: (output: string) => void;
}

/** A program started by {@link start}. */
export interface Running {
  readonly child: ChildProcess;
  /** Resolves once it has exited (or been killed for outliving `timeout`). */
  readonly done: Promise<RunResult>;
}

/** Starts `command`; `done` resolves when it ends, or is killed at `timeout`. */
export function start(command: string, args: readonly string[], options: RunOptions = {}): Running {
  const started = performance.now();
  const child = spawn(command, [...args, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  let interrupted = false;
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    options.onOutput?.(output);
    if (
      !interrupted &&
      options.interruptWhen !== undefined &&
      output.includes(options.interruptWhen)
    ) {
      interrupted = true;
      child.kill('SIGINT');
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    onOutput(chunk);
  });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, options.timeout ?? 30_000);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, stderr, hung, ms: performance.now() - started });
    });
  });
  return { child, done };
}

/** Runs `command` to its end, or until `timeout`. */
export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return start(command, args, options).done;
}

/** Runs a Node.js program. */
export function runNode(program: string, options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [program], options);
}

/** A printed stack trace: `    at fn (file:1:2)`. */
export const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** A warning printed by Node.js itself: `(node:1234) MaxListenersExceededWarning: …`. */
export const NODE_WARNING = /^\(node:\d+\) \w*Warning/m;
