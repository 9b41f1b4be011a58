/**
 * Testing application code with @zkit/testing: the `zk` fixture gives each test its own chroot on
 * a real ZooKeeper server (started once by the global setup) and closes the clients it made;
 * `expireSession` ends a client's session on the server, as a long network partition would.
 */
import type { ConnectionState, ZkClient } from '@zkit/core';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { ReportScheduler } from '../src/report-scheduler.js';

interface Report {
  readonly by: string;
  readonly fencingToken: bigint;
  /** The session the replica's client had when it reported. */
  readonly session: string | undefined;
}

/** Starts a replica that appends its reports to `reports`. */
async function replica(client: ZkClient, id: string, reports: Report[]): Promise<ReportScheduler> {
  const scheduler = new ReportScheduler(client, {
    id,
    report: (fencingToken) =>
      void reports.push({ by: id, fencingToken, session: client.sessionId }),
  });
  await scheduler.start();
  return scheduler;
}

/** Fencing tokens never go down from one report to the next, whoever wrote them. */
function expectTokensInOrder(reports: readonly Report[]): void {
  for (let i = 1; i < reports.length; i++) {
    expect(reports[i]!.fencingToken >= reports[i - 1]!.fencingToken).toBe(true);
  }
}

// Sessions of 4 s or more ride out the short stall of `expireSession`'s twin handle.
const sessionTimeout = 4000;

test('report scheduler - exactly one of two replicas produces reports', async ({ zk }) => {
  const reports: Report[] = [];
  const a = await replica(await zk.client({ sessionTimeout }), 'a', reports);
  const b = await replica(await zk.client({ sessionTimeout }), 'b', reports);
  await waitFor(() => reports.length >= 5, { message: 'five reports' });
  expect([a.leading, b.leading]).toEqual([true, false]);
  expect(new Set(reports.map((r) => r.by))).toEqual(new Set(['a']));
  await Promise.all([a.close(), b.close()]);
});

test('report scheduler - the other replica takes over when the leader loses its session', async ({
  zk,
}) => {
  const reports: Report[] = [];
  const leaderClient = await zk.client({ sessionTimeout });
  const a = await replica(leaderClient, 'a', reports);
  const b = await replica(await zk.client({ sessionTimeout }), 'b', reports);
  await waitFor(() => reports.length >= 2, { message: 'a to report' });

  await expireSession(leaderClient);
  await waitFor(() => reports.some((r) => r.by === 'b'), { message: 'b to take over' });
  await waitFor(() => reports.filter((r) => r.by === 'b').length >= 3, { message: 'b to go on' });

  const firstOfB = reports.findIndex((r) => r.by === 'b');
  // a stopped before b started, and never reported again: it queued up behind b.
  expect(reports.slice(firstOfB).every((r) => r.by === 'b')).toBe(true);
  expect(reports[firstOfB]!.fencingToken).toBeGreaterThan(reports[firstOfB - 1]!.fencingToken);
  expectTokensInOrder(reports);
  expect([a.leading, b.leading]).toEqual([false, true]);
  await Promise.all([a.close(), b.close()]);
});

test('report scheduler - a lone replica resumes reporting under a new session', async ({ zk }) => {
  const reports: Report[] = [];
  const client = await zk.client({ sessionTimeout });
  const states: ConnectionState[] = [];
  client.on('state', (now) => states.push(now));
  const scheduler = await replica(client, 'a', reports);
  await waitFor(() => reports.length >= 2, { message: 'the first reports' });
  const before = client.sessionId;
  const firstTerm = reports[0]!.fencingToken;

  await expireSession(client);
  // The twin handle that expires the session may first make the client reconnect once to the
  // old session (a term of its own); only reports made under a new session count here.
  await waitFor(() => reports.some((r) => r.session !== undefined && r.session !== before), {
    message: 'reports under a new session',
  });

  expect(client.sessionId).not.toBe(before);
  const resumed = reports.find((r) => r.session !== before)!;
  expect(resumed.fencingToken).toBeGreaterThan(firstTerm);
  expect(states).toContain('lost');
  expect(states.at(-1)).toBe('reconnected');
  expect(scheduler.leading).toBe(true);
  expectTokensInOrder(reports);
  await scheduler.close();
  expect(scheduler.leading).toBe(false);
});
