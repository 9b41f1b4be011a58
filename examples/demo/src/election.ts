import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chapter, green, magenta, red, say, yellow } from './narrator.js';

interface Replica {
  readonly id: string;
  readonly process: ChildProcess;
}

/** Three replica processes elect a leader; the leader is killed and another takes over. */
export async function electionChapter(connectString: string): Promise<void> {
  chapter('Three replicas elect a leader, and fail over when it is killed');
  const script = fileURLToPath(new URL('./replica.js', import.meta.url));
  let leader: string | undefined;
  const waiters: ((id: string) => void)[] = [];
  const replicas: Replica[] = ['replica-1', 'replica-2', 'replica-3'].map((id) => {
    const child = spawn(process.execPath, [script, connectString, id], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { event: string; id: string; token?: string };
      if (msg.event === 'elected') {
        leader = msg.id;
        say(`${green(msg.id)} is the leader (fencing token ${magenta(msg.token ?? '')})`);
        for (const w of waiters.splice(0)) w(msg.id);
      }
      if (msg.event === 'revoked') say(yellow(`${msg.id} stepped down`));
    });
    return { id, process: child };
  });
  const nextLeader = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no leader elected in time')), timeoutMs);
      waiters.push((id) => {
        clearTimeout(t);
        resolve(id);
      });
    });
  try {
    const first = leader ?? (await nextLeader(20_000));
    const victim = replicas.find((r) => r.id === first)!;
    say(red(`killing ${first} with SIGKILL: no goodbye, its session must expire on the server`));
    const killedAt = performance.now();
    const next = nextLeader(20_000);
    victim.process.kill('SIGKILL');
    const successor = await next;
    say(
      `${green(successor)} took over ${((performance.now() - killedAt) / 1000).toFixed(1)} s later ` +
        `(session timeout 4 s: the server had to expire the dead replica's session first)`,
    );
  } finally {
    for (const r of replicas) {
      r.process.stdin?.end();
    }
    await Promise.all(
      replicas.map(
        (r) =>
          new Promise<void>((resolve) => {
            if (r.process.exitCode !== null || r.process.signalCode !== null) return resolve();
            const t = setTimeout(() => r.process.kill('SIGKILL'), 5000);
            r.process.on('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  }
}
