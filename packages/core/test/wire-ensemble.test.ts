import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ZooKeeperEnsemble, waitFor } from '@zkit/testing';
import { NotReadOnlyError, ZkClient, type ConnectionState } from '@zkit/core';

const CLIENTS = 60;

let ensemble: ZooKeeperEnsemble;

function members(indexes: readonly number[]): string {
  return indexes.map((i) => ensemble.servers[i]?.connectString).join(',');
}

/** Sessions per member, as each member's `cons` lists them. */
async function sessionsPerMember(): Promise<Map<string, Set<bigint>>> {
  const result = new Map<string, Set<bigint>>();
  for (const server of ensemble.servers) {
    const sessions = new Set<bigint>();
    if (server.state === 'running') {
      const text = await server.fourLetter('cons');
      for (const m of text.matchAll(/sid=0x([0-9a-f]+)/g)) {
        sessions.add(BigInt(`0x${m[1] as string}`));
      }
    }
    result.set(server.connectString, sessions);
  }
  return result;
}

/** How many of `clients` each member serves, checked against the members' own `cons`. */
async function spread(clients: readonly ZkClient[]): Promise<Map<string, number>> {
  await waitFor(() => clients.every((c) => c.isConnected && c.server !== undefined), {
    timeout: 30_000,
    message: 'every client to be connected',
  });
  const counts = new Map<string, number>(ensemble.servers.map((s) => [s.connectString, 0]));
  for (const c of clients)
    counts.set(c.server as string, (counts.get(c.server as string) ?? 0) + 1);
  // The members agree: each client's session is listed by the member it says it is on.
  await waitFor(
    async () => {
      const listed = await sessionsPerMember();
      return clients.every((c) =>
        listed.get(c.server as string)?.has(BigInt(`0x${c.sessionId as string}`)),
      );
    },
    { timeout: 10_000, message: "each member's cons to list its clients' sessions" },
  );
  return counts;
}

/** Pearson's χ² of the counts against an even spread over `over` members. */
function chiSquare(counts: Map<string, number>, over: readonly string[], total: number): number {
  const even = total / over.length;
  return over.reduce((sum, m) => sum + ((counts.get(m) ?? 0) - even) ** 2 / even, 0);
}

describe('server-list rebalancing', () => {
  // One ensemble of five for the rebalancing test. Servers cannot join or leave a running ensemble here (no
  // dynamic reconfiguration), so the clients are first given three of the five members, then all
  // five, then the three again.
  beforeAll(async () => {
    ensemble = await ZooKeeperEnsemble.start({ size: 5 });
  });

  afterAll(async () => {
    await ensemble?.stop();
  });

  test('rebalancing - 60 clients spread over added members and leave removed ones, keeping their sessions', async () => {
    const three = members([0, 1, 2]);
    const five = members([0, 1, 2, 3, 4]);
    const clients = Array.from(
      { length: CLIENTS },
      () => new ZkClient(three, { transport: 'wire', sessionTimeout: 20_000 }),
    );
    const states = clients.map(() => [] as ConnectionState[]);
    clients.forEach((c, i) => c.on('state', (now) => states[i]?.push(now)));
    try {
      await Promise.all(clients.map((c) => c.start()));
      const sessions = clients.map((c) => c.sessionId);
      const before = await spread(clients);

      // A client that moves is suspended, then reconnected: wait for that before counting.
      const reconnects = () => states.map((s) => s.filter((x) => x === 'reconnected').length);
      const settled = async (expected: number[]) => {
        await waitFor(() => reconnects().every((n, i) => n >= (expected[i] ?? 0)), {
          timeout: 30_000,
          message: 'every client told to move to reconnect',
        });
      };
      const moved = clients.map((c) => c.updateServers(five));
      await settled(moved.map((m) => (m ? 1 : 0)));
      const grown = await spread(clients);
      const shrunkList = clients.map((c) => c.updateServers(three));
      await settled(moved.map((m, i) => (m ? 1 : 0) + (shrunkList[i] ? 1 : 0)));
      const shrunk = await spread(clients);

      const show = (m: Map<string, number>) =>
        ensemble.servers.map((s, i) => `m${i + 1}=${m.get(s.connectString) ?? 0}`).join(' ');
      // The counts, for the record (the grown spread is the one rebalancing is judged on).
      process.stdout.write(
        `rebalancing over ${CLIENTS} clients: 3 members: ${show(before)}; ` +
          `5 members (${moved.filter(Boolean).length} moved): ${show(grown)}; ` +
          `3 again (${shrunkList.filter(Boolean).length} moved): ${show(shrunk)}\n`,
      );

      // Sessions survive every move, and no client ever lost its session.
      expect(clients.map((c) => c.sessionId)).toEqual(sessions);
      expect(states.flat()).not.toContain('lost');
      // Exactly the clients told to move did: suspended, then reconnected; the others saw nothing.
      const movedAtAll = moved.map((m, i) => m || shrunkList[i]);
      states.forEach((s, i) => {
        if (movedAtAll[i]) expect(s).toContain('reconnected');
        else expect(s).toEqual(['connected']);
      });
      // Nobody is left on a removed member.
      expect(shrunk.get(ensemble.servers[3]?.connectString as string)).toBe(0);
      expect(shrunk.get(ensemble.servers[4]?.connectString as string)).toBe(0);
      // Added members got clients, and the spread over five is as even as independent clients
      // make it: each client ends up on a given member with probability 1/5, so the χ² of the
      // counts (4 degrees of freedom) stays below 23.5 in all but 1 run in 10 000, whereas the
      // list update without rebalancing (60 clients on the first three) gives 40.
      const all = ensemble.servers.map((s) => s.connectString);
      expect(grown.get(all[3] as string)).toBeGreaterThan(0);
      expect(grown.get(all[4] as string)).toBeGreaterThan(0);
      expect(chiSquare(grown, all, CLIENTS)).toBeLessThan(23.5);
      // Shrinking back moved exactly the clients of the removed members.
      expect(shrunkList.filter(Boolean).length).toBe(
        (grown.get(all[3] as string) ?? 0) + (grown.get(all[4] as string) ?? 0),
      );
      // Every session still works.
      await Promise.all(clients.map((c) => c.exists('/')));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

describe('read-only mode', () => {
  test('read-only - a client cut off with a minority member reads from it as readOnly, writes fail typed, and it returns to read-write with the quorum', async () => {
    // A server of 3.5+ in read-only mode resumes no session created on the quorum, and creates
    // new ones only as local sessions: hence localSessionsEnabled.
    await using three = await ZooKeeperEnsemble.start({
      size: 3,
      jvmFlags: ['-Dreadonlymode.enabled=true'],
      config: { localSessionsEnabled: true },
    });
    const all = three.servers.map((s) => s.connectString).join(',');
    await using writer = new ZkClient(all, { transport: 'wire' });
    await writer.start();
    await writer.create('/ro', 'v1');
    await writer.sync('/ro');
    await writer.close();

    await using client = new ZkClient(all, {
      transport: 'wire',
      canBeReadOnly: true,
      sessionTimeout: 2000,
      connectTimeout: 40_000,
    });
    const states: ConnectionState[] = [];
    const sessions: string[] = [];
    client.on('state', (now) => states.push(now));
    client.on('session', (id) => sessions.push(id));
    await client.start();
    // The client's member stays up; the two others go.
    const kept = three.servers.findIndex((s) => s.connectString === client.server);
    await Promise.all([0, 1, 2].filter((i) => i !== kept).map((i) => three.kill(i)));
    // The quorum's session cannot go on on a read-only server: lost, then a read-only session.
    await waitFor(() => client.state === 'readOnly', {
      timeout: 30_000,
      message: 'the client to report readOnly',
    });
    expect(client.server).toBe(three.servers[kept]?.connectString);
    expect(client.sessionSignal().aborted).toBe(true);
    expect((await client.get('/ro')).data.toString()).toBe('v1');
    await expect(client.set('/ro', 'v2')).rejects.toThrow(NotReadOnlyError);
    await expect(client.create('/ro/child')).rejects.toThrow(NotReadOnlyError);

    // The quorum returns: the client finds a read-write server by itself.
    await three.restart((kept + 1) % 3);
    await waitFor(() => client.state === 'reconnected', {
      timeout: 40_000,
      message: 'the client to be back on a read-write server',
    });
    await client.set('/ro', 'v2');
    expect((await client.get('/ro')).data.toString()).toBe('v2');
    expect(client.sessionSignal().aborted).toBe(false);
    // The move off the read-only member is a drop like any other: suspended, then reconnected.
    expect(states).toEqual([
      'connected',
      'suspended',
      'lost',
      'readOnly',
      'suspended',
      'reconnected',
    ]);
    // One session on the quorum, one local to the read-only member, one on the quorum again.
    expect(new Set(sessions).size).toBe(3);
  });
});
