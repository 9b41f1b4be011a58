import type { ZkClient } from '@zkit/core';
import { expireSession, waitFor, type FaultProxy } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { LeaderLatch } from '../src/index.js';
import { children, TermLog } from './helpers.js';

const PATH = '/election/stress';
const PARTICIPANTS = 5;
const HANDOFFS = 50;
const KINDS = ['close', 'partition', 'expire'] as const;

interface Participant {
  readonly name: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
  latch: LeaderLatch;
}

test(
  'latch - 50 forced hand-offs among 5 participants never overlap two terms',
  { timeout: 180_000 },
  async ({ zk }) => {
    const log = new TermLog();
    // Every term with the session it was granted in, and when each session was reported lost.
    const grants: { session: string | undefined; at: number }[] = [];
    const lostAt = new Map<string | undefined, number>();
    const join = (p: { name: string; client: ZkClient }): LeaderLatch => {
      const latch = log.latch(p.name, new LeaderLatch(p.client, PATH, { id: p.name }));
      latch.on('elected', () =>
        grants.push({ session: p.client.sessionId, at: performance.now() }),
      );
      return latch;
    };

    const admin = await zk.client();
    const participants: Participant[] = [];
    for (let i = 0; i < PARTICIPANTS; i++) {
      const proxy = await zk.proxy();
      const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
      client.on('state', (now) => {
        if (now === 'lost') lostAt.set(client.sessionId, performance.now());
      });
      const base = { name: `p${i}`, proxy, client };
      const latch = join(base);
      participants.push({ ...base, latch });
      await latch.start();
    }
    await log.nth(1);

    const counts = { close: 0, partition: 0, expire: 0 };
    for (let round = 0; round < HANDOFFS; round++) {
      const leader = await waitFor(() => participants.find((p) => p.latch.hasLeadership), {
        message: `a leader in round ${round}`,
      });
      const before = log.terms.length;
      const kind = KINDS[round % KINDS.length] as (typeof KINDS)[number];
      counts[kind]++;
      switch (kind) {
        case 'close': {
          await leader.latch.close();
          leader.latch = join(leader);
          await leader.latch.start();
          break;
        }
        case 'partition': {
          leader.proxy.partition();
          await waitFor(() => log.terms.length > before, { timeout: 10_000 });
          leader.proxy.heal();
          break;
        }
        case 'expire': {
          // Cut the leader off, then end its session from outside (a twin handle on a direct
          // connection), and let it hear about it when the link heals. A twin that has to fight
          // the client for the session can block the process for a while when it closes, which
          // would also cost the other 2 s sessions theirs.
          const node = leader.latch.nodePath as string;
          leader.proxy.partition();
          await waitFor(() => leader.client.state === 'suspended', { timeout: 5000 });
          const expiring = expireSession(leader.client, { connectString: zk.connectString });
          await waitFor(async () => (await admin.exists(node)) === null, { timeout: 5000 });
          leader.proxy.heal();
          await expiring;
          break;
        }
      }
      // While a twin handle expires the session, the leader may win its session back for a moment
      // and lead again in it; the hand-off is the first term of another participant.
      const next = await waitFor(() => log.terms.slice(before).find((t) => t.who !== leader.name), {
        timeout: 10_000,
        message: `round ${round} (${kind}): a new leader`,
      });
      expect(next.who).not.toBe(leader.name);
      if (kind !== 'expire') expect(log.terms.length).toBe(before + 1);
    }

    expect(counts).toEqual({ close: 17, partition: 17, expire: 16 });
    expect(log.violations).toEqual([]);
    expect(log.terms.length).toBeGreaterThanOrEqual(HANDOFFS + 1);
    for (const [i, { term }] of log.terms.entries()) {
      if (i > 0) expect(term.fencingToken).toBeGreaterThan(log.terms[i - 1]!.term.fencingToken);
    }
    // Nobody was elected in a session after it was reported lost.
    for (const { session, at } of grants) expect(at).toBeLessThan(lostAt.get(session) ?? Infinity);

    // Everyone is back in line, each with exactly one node of its current session.
    await waitFor(
      async () => {
        const names = await children(admin, PATH);
        return names.length === PARTICIPANTS;
      },
      { timeout: 10_000, message: 'every participant back in line' },
    );
    for (const p of participants) await p.latch.close();
    expect(await children(admin, PATH)).toEqual([]);
    // Closing a client through an in-process proxy stalls for 1.5 s (the native close blocks the
    // thread that would forward its reply); nothing of ours is left, so cut the links first.
    for (const p of participants) {
      await p.proxy.close();
      await p.client.close();
    }
  },
);
