import { LeaderLatch, LeaderSelector, type LeadershipTerm } from '@zkit/election';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { startCuratorAgent, type AgentEvent, type CuratorAgent } from './curator-agent.js';

// Java and Node replicas in one election: several Curator LeaderLatch participants (on two
// sessions) and several zkit ones, interleaved in line. At every hand-off (close, and a Curator
// process killed while it leads) exactly one participant believes it leads, and both libraries
// name the same leader.

const PATH = '/election/mixed';

interface CuratorParticipant {
  id: string;
  leader: boolean;
}

test('interop - interleaved Curator and zkit latches agree on one leader through every hand-off and a crash', async ({
  zk,
}) => {
  const agentA = await startCuratorAgent(zk.connectString);
  const agentB = await startCuratorAgent(zk.connectString, { sessionTimeoutMs: 4000 });
  const [c1, c2] = await Promise.all([zk.client(), zk.client()]);
  const zkit = new Map<string, LeaderLatch>();
  // Who believes it leads: Curator participants by their events, zkit ones by their terms.
  const curatorLeading = new Set<string>();
  const violations: string[] = [];
  const terms: LeadershipTerm[] = [];
  const onCurator = (agent: CuratorAgent) => {
    const pump = async (): Promise<void> => {
      for (;;) {
        const e: AgentEvent = await agent.next('isLeader', { timeout: 600_000 });
        const id = String(e['participant']);
        for (const [name, latch] of zkit) {
          if (latch.hasLeadership) violations.push(`${id} (Curator) elected while ${name} leads`);
        }
        curatorLeading.add(id);
      }
    };
    pump().catch(() => undefined);
  };
  onCurator(agentA);
  onCurator(agentB);
  const join = async (client: typeof c1, id: string): Promise<LeaderLatch> => {
    const latch = new LeaderLatch(client, PATH, { id });
    latch.on('elected', (term) => {
      for (const other of curatorLeading) violations.push(`${id} elected while ${other} leads`);
      for (const t of terms) if (!t.signal.aborted) violations.push(`${id} elected, a term live`);
      const last = terms.at(-1);
      if (last && term.fencingToken <= last.fencingToken) violations.push('token did not grow');
      terms.push(term);
    });
    zkit.set(id, latch);
    await latch.start();
    return latch;
  };
  const line = async () =>
    ((await agentA.send('latch.participants', PATH))['participants'] as CuratorParticipant[]).map(
      (p) => p.id,
    );
  const joinCurator = async (agent: CuratorAgent, id: string, position: number) => {
    await agent.send('latch.start', PATH, id);
    await waitFor(async () => (await line()).length === position, { message: `${id} in line` });
  };
  const closeCurator = async (agent: CuratorAgent, id: string) => {
    curatorLeading.delete(id);
    await agent.send('latch.close', PATH, id);
  };
  /** Both libraries name `id`, and it is the only participant that believes it leads. */
  const agreeOn = async (id: string) => {
    await waitFor(
      async () => {
        const curator = (await agentA.send('latch.participants', PATH))[
          'participants'
        ] as CuratorParticipant[];
        const believers = [
          ...curatorLeading,
          ...[...zkit].filter(([, l]) => l.hasLeadership).map(([n]) => n),
        ];
        return (
          curator[0]?.id === id &&
          curator[0].leader &&
          (await zkit.values().next().value?.leader()) === id &&
          believers.length === 1 &&
          believers[0] === id
        );
      },
      { timeout: 15_000, message: `everyone to agree that ${id} leads` },
    );
  };

  try {
    await joinCurator(agentA, 'java-1', 1);
    const node1 = await join(c1, 'node-1');
    await joinCurator(agentB, 'java-2', 3);
    const node2 = await join(c2, 'node-2');
    await joinCurator(agentA, 'java-3', 5);
    expect(await line()).toEqual(['java-1', 'node-1', 'java-2', 'node-2', 'java-3']);
    expect((await node1.participants()).map((p) => p.id)).toEqual(await line());
    await agreeOn('java-1');

    await closeCurator(agentA, 'java-1');
    await agreeOn('node-1');
    await node1.close();
    await agreeOn('java-2');

    // The Curator process that leads dies: node-2 takes over once the server expires its session.
    curatorLeading.delete('java-2');
    const killedAt = performance.now();
    await agentB.kill();
    await waitFor(() => node2.hasLeadership, { timeout: 10_000, message: 'node-2 to lead' });
    expect(performance.now() - killedAt).toBeLessThan(4000 + 1000);
    await agreeOn('node-2');

    await node2.close();
    await agreeOn('java-3');
    expect(violations).toEqual([]);
    expect(terms.length).toBe(2);
  } finally {
    for (const latch of zkit.values()) await latch.close();
    await agentA.close();
    await agentB.close();
  }
});

test("interop - a zkit LeaderSelector and Curator's selector layout take turns on one path", async ({
  zk,
}) => {
  const client = await zk.client();
  const agent = await startCuratorAgent(zk.connectString);
  const selector = new LeaderSelector(client, '/election/jobs', { id: 'node-1' });
  try {
    // Curator's LeaderSelector leads by holding an InterProcessMutex on the election path.
    await agent.send('mutex.acquire', '/election/jobs', 10_000);
    let leading = false;
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const running = selector.run(async (term) => {
      leading = true;
      expect(term.participantId).toBe('node-1');
      await done;
    });
    await waitFor(async () => (await selector.participants()).length === 2);
    expect(await agent.send('participants', '/election/jobs')).toMatchObject({
      participants: [expect.stringMatching(/-lock-\d{10}$/), selector.nodePath],
    });
    expect(leading).toBe(false);
    await agent.send('mutex.release', '/election/jobs');
    await waitFor(() => leading, { message: 'the zkit selector to lead' });
    expect(await selector.leader()).toBe('node-1');
    // While zkit leads, Curator waits its turn.
    await expect(agent.send('mutex.acquire', '/election/jobs', 300)).rejects.toMatchObject({
      type: 'timeout',
    });
    release();
    await running;
    await agent.send('mutex.acquire', '/election/jobs', 10_000);
    await agent.send('mutex.release', '/election/jobs');
  } finally {
    await selector.close();
    await agent.close();
  }
});
