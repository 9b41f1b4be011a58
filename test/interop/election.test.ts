import { LeaderLatch } from '@zkit/election';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { startCuratorAgent, type AgentEvent } from './curator-agent.js';

// A zkit LeaderLatch and Curator's LeaderLatch on one path must elect one leader between them,
// agree on who it is, and hand over in line order.

interface CuratorParticipant {
  id: string;
  leader: boolean;
}

const isLeaderEvent = (participant: string) => (e: AgentEvent) => e['participant'] === participant;

test('interop - zkit and Curator leader latches elect one leader and hand over in line order', async ({
  zk,
}) => {
  const client = await zk.client();
  const agent = await startCuratorAgent(zk.connectString);
  const latch = new LeaderLatch(client, '/election/scheduler', { id: 'node-1' });
  try {
    // Curator joins first and leads.
    await agent.send('latch.start', '/election/scheduler', 'java-1');
    await agent.next('isLeader', { where: isLeaderEvent('java-1') });

    // zkit joins behind it and waits.
    let curatorLeads = true;
    let grantedWhileCuratorLed: boolean | undefined;
    await latch.start();
    const elected = latch.awaitLeadership({ timeout: 30_000 }).then((term) => {
      grantedWhileCuratorLed = curatorLeads;
      return term;
    });
    const line = await waitFor(async () => {
      const { participants } = await agent.send('latch.participants', '/election/scheduler');
      const list = participants as CuratorParticipant[];
      return list.length === 2 && list;
    });
    expect(line).toEqual([
      { id: 'java-1', leader: true },
      { id: 'node-1', leader: false },
    ]);
    expect(latch.hasLeadership).toBe(false);
    expect(await latch.leader()).toBe('java-1');

    // Curator leaves; zkit leads, and Curator agrees.
    curatorLeads = false;
    await agent.send('latch.close', '/election/scheduler', 'java-1');
    const term = await elected;
    expect(grantedWhileCuratorLed).toBe(false);
    expect(latch.hasLeadership).toBe(true);
    const { participants } = await agent.send('latch.participants', '/election/scheduler');
    expect(participants).toEqual([{ id: 'node-1', leader: true }]);

    // A new Curator participant waits behind zkit and takes over when zkit closes. Its
    // isLeader notification is awaited from before it joins, so an early one would be caught.
    let zkitLeads = true;
    let handedOverWhileZkitLed: boolean | undefined;
    const curatorElected = agent
      .next('isLeader', { where: isLeaderEvent('java-2'), timeout: 30_000 })
      .then(() => {
        handedOverWhileZkitLed = zkitLeads;
      });
    await agent.send('latch.start', '/election/scheduler', 'java-2');
    await waitFor(async () => (await latch.participants()).length === 2, {
      message: 'the second Curator participant to join',
    });
    expect(await agent.send('latch.participants', '/election/scheduler')).toMatchObject({
      participants: [
        { id: 'node-1', leader: true },
        { id: 'java-2', leader: false },
      ],
    });
    expect(handedOverWhileZkitLed).toBeUndefined();
    zkitLeads = false;
    await latch.close();
    expect(term.signal.aborted).toBe(true);
    await curatorElected;
    expect(handedOverWhileZkitLed).toBe(false);
  } finally {
    await latch.close();
    await agent.close();
  }
});
