import { Worker, expectCleanExits } from './processes.js';
import type { LockWorkerMessage } from './lock-worker.js';
import { blue, chapter, green, magenta, red, say, yellow } from './narrator.js';

/**
 * Three worker processes serialise their jobs with one Mutex and write to a store that accepts
 * a write only with a fencing token at least as high as any it has seen. One worker freezes
 * while holding the lock; the lock passes on once its session expires, and when it wakes up its
 * lease is void.
 */
export async function lockChapter(connectString: string): Promise<string> {
  chapter('Three worker processes, one lock, fencing tokens');
  const jobs = 3;
  const names = ['worker-a', 'worker-b', 'worker-c'];
  const done = new Map(names.map((n) => [n, 0]));
  let highest = -1n;
  let first: bigint | undefined;
  let acquisitions = 0;
  let refused = 0;
  let lost = 0;
  let frozen:
    | { worker: Worker<LockWorkerMessage>; at: number; passedOn: boolean; resume: () => void }
    | undefined;

  const freeze = (worker: Worker<LockWorkerMessage>) => {
    let resumed = false;
    const resume = () => {
      if (resumed) return;
      resumed = true;
      clearTimeout(fallback);
      say(yellow(`${worker.name} wakes up (SIGCONT), still believing it holds the lock`));
      worker.process.kill('SIGCONT');
    };
    // Normally resumed once the next holder has written; this only guards against a stuck demo.
    const fallback = setTimeout(resume, 10_000);
    frozen = { worker, at: performance.now(), passedOn: false, resume };
  };

  const colours = [green, blue, magenta];
  const workers = names.map((name, i) => {
    const worker = new Worker<LockWorkerMessage>(name, 'lock-worker.js', [
      connectString,
      name,
      String(jobs),
    ]);
    const who = (colours[i] ?? green)(name);
    worker.onMessage((m) => {
      switch (m.event) {
        case 'acquired': {
          acquisitions++;
          say(`${who} holds the lock, fencing token ${magenta(m.token)}`);
          if (frozen && !frozen.passedOn && frozen.worker !== worker) {
            frozen.passedOn = true;
            const after = ((performance.now() - frozen.at) / 1000).toFixed(1);
            say(
              `  …${after} s after the freeze: the frozen worker's session expired, the lock moved on`,
            );
          }
          // Freeze one holder once, while another worker still has jobs to do (and so waits).
          const othersBusy = names.some((n) => n !== name && (done.get(n) ?? 0) < jobs);
          const now = frozen === undefined && acquisitions >= 4 && othersBusy;
          worker.send({ freeze: now });
          if (now) freeze(worker);
          return;
        }
        case 'freezing':
          say(red(`${name} freezes while holding the lock (SIGSTOP, like a long GC pause)`));
          return;
        case 'lost':
          lost++;
          say(yellow(`${name}'s lease signal aborted: it drops the job and queues up again`));
          return;
        case 'write': {
          const token = BigInt(m.token);
          const ok = token >= highest;
          worker.send({ accepted: ok });
          if (!ok) {
            refused++;
            say(
              red(
                `  store refused ${name}'s stale write (token ${token} < ${highest}); it queues up again`,
              ),
            );
            return;
          }
          first ??= token;
          highest = token;
          done.set(name, (done.get(name) ?? 0) + 1);
          say(`  store accepted ${name}'s write with token ${magenta(m.token)}`);
          if (frozen && frozen.worker !== worker) frozen.resume();
        }
      }
    });
    return worker;
  });
  await expectCleanExits(workers);
  const total = [...done.values()].reduce((a, b) => a + b, 0);
  const fate =
    refused > 0
      ? 'its stale write was refused'
      : lost > 0
        ? 'its lease signal stopped it'
        : 'none froze';
  say(`${total} jobs written, fencing tokens ${first} → ${highest}; the frozen worker: ${fate}`);
  return `${total} jobs by 3 processes, tokens ${first} → ${highest}; frozen holder: ${fate}`;
}
