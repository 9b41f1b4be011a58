import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ZooKeeperEnsemble, waitFor } from '@zkit/testing';
import { ZkClient, type ConnectionState } from '@zkit/core';

const CLIENTS = 60;

// One ensemble of five for the file. Servers cannot join or leave a running ensemble here (no
// dynamic reconfiguration), so the clients are first given three of the five members, then all
// five, then the three again. Read-only mode is enabled so that a member cut off from the
// quorum serves read-only clients.
let ensemble: ZooKeeperEnsemble;

beforeAll(async () => {
  ensemble = await ZooKeeperEnsemble.start({
    size: 5,
    jvmFlags: ['-Dreadonlymode.enabled=true'],
  });
});

afterAll(async () => {
  await ensemble?.stop();
});

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
