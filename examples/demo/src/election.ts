import { Worker, expectCleanExits } from './processes.js';
import type { ReplicaMessage } from './replica.js';
import { chapter, green, magenta, red, say, yellow } from './narrator.js';

/** Three replica processes elect a leader; the leader is killed and another takes over. */
export async function electionChapter(connectString: string): Promise<string> {
  chapter('Three replica processes elect a leader, and fail over when it is killed');
  let onElected: ((id: string) => void) | undefined;
  let leader: string | undefined;
  const replicas = ['replica-1', 'replica-2', 'replica-3'].map((id) => {
    const replica = new Worker<ReplicaMessage>(id, 'replica.js', [connectString, id]);
    replica.onMessage((m) => {
      if (m.event === 'elected') {
        leader = id;
        say(`${green(id)} is the leader (fencing token ${magenta(m.token)})`);
        onElected?.(id);
      }
      if (m.event === 'revoked') say(yellow(`${id} stepped down`));
    });
    return replica;
  });
  const nextLeader = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no leader elected in time')), 20_000);
      onElected = (id) => {
        clearTimeout(timer);
        resolve(id);
      };
    });
  try {
    const first = leader ?? (await nextLeader());
    const victim = replicas.find((r) => r.name === first)!;
    say(red(`killing ${first} with SIGKILL: no goodbye, its session must expire on the server`));
    const killedAt = performance.now();
    const next = nextLeader();
    victim.process.kill('SIGKILL');
    const successor = await next;
    const took = ((performance.now() - killedAt) / 1000).toFixed(1);
    say(
      `${green(successor)} took over ${took} s later ` +
        `(session timeout 3 s: the server had to expire the dead replica's session first)`,
    );
    const survivors = replicas.filter((r) => r !== victim);
    await Promise.all(survivors.map((r) => r.stop()));
    await expectCleanExits(survivors);
    return `${first} led; killed, ${successor} took over in ${took} s`;
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}
