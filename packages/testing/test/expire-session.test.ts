import type { ConnectionState } from '@zkit/core';
import { expect } from 'vitest';
import { expireSession, SessionNotExpiredError, waitFor } from '../src/index.js';
import { test } from '../src/vitest.js';

test('expireSession - the client reports lost, then reconnects with a new session', async ({
  zk,
}) => {
  const client = await zk.client({ sessionTimeout: 4000 });
  const observer = await zk.client();
  const states: ConnectionState[] = [];
  client.on('state', (now) => states.push(now));
  const session = client.sessionId;
  await client.create('/mine', '', { mode: 'ephemeral' });

  await expireSession(client);

  expect(states).toContain('lost');
  // The expiry is real, on the server: the session's ephemeral node is gone.
  expect(await observer.exists('/mine')).toBeNull();
  await waitFor(() => client.state === 'reconnected', { timeout: 10_000 });
  expect(client.sessionId).not.toBe(session);
  expect(states.slice(-2)).toEqual(['lost', 'reconnected']);
});

test("expireSession - reaches a partitioned client's session through the server address", async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 20_000 });
  const observer = await zk.client();
  await client.create('/mine', '', { mode: 'ephemeral' });
  proxy.partition();

  const expired = expireSession(client, { connectString: zk.connectString, timeout: 20_000 });
  // The server ends the session at once; the client hears of it when the partition heals.
  await waitFor(async () => (await observer.exists('/mine')) === null, { timeout: 10_000 });
  proxy.heal();
  await expired;

  expect(client.state === 'lost' || client.state === 'reconnected').toBe(true);
});

test('expireSession - gives up with a typed error when the client never hears of it', async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 20_000 });
  proxy.partition(); // the twin goes through the proxy too, and cannot reach the server

  const error: unknown = await expireSession(client, { timeout: 1000 }).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(SessionNotExpiredError);
  expect((error as SessionNotExpiredError).code).toBe('SESSION_NOT_EXPIRED');
});
