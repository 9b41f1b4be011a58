import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { ZooKeeperServer, expireSession, waitFor } from '@zkit/testing';
import {
  ClientClosedError,
  ConnectTimeoutError,
  ConnectionLossError,
  SessionExpiredError,
  ZkClient,
  ZkError,
  type ConnectionState,
} from '@zkit/core';

function record(client: ZkClient): ConnectionState[] {
  const seen: ConnectionState[] = [];
  client.on('state', (now) => seen.push(now));
  return seen;
}

describe('session', () => {
  test('session - a pause shorter than the timeout: suspended, then reconnected to the same session', async () => {
    await using server = await ZooKeeperServer.start();
    await using client = new ZkClient(server.connectString, { sessionTimeout: 4000 });
    await client.start();
    const seen = record(client);
    const session = client.sessionId;
    await client.create('/e', '', { mode: 'ephemeral' });
    await server.pause();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    await server.resume();
    await waitFor(() => client.state === 'reconnected', { timeout: 10_000 });
    expect(seen).toEqual(['suspended', 'reconnected']);
    expect(client.sessionId).toBe(session);
    expect(await client.exists('/e')).not.toBeNull();
  });

  test('session - a pause longer than the timeout: lost, then reconnected with a new session', async () => {
    await using server = await ZooKeeperServer.start();
    await using client = new ZkClient(server.connectString, { sessionTimeout: 2000 });
    await client.start();
    const seen = record(client);
    const sessions: string[] = [];
    client.on('session', (id) => sessions.push(id));
    const first = client.sessionId;
    await client.create('/e', '', { mode: 'ephemeral' });
    await server.pause();
    await waitFor(() => client.state === 'lost', { timeout: 15_000 });
    await server.resume();
    await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
    expect(seen).toEqual(['suspended', 'lost', 'reconnected']);
    expect(client.sessionId).not.toBe(first);
    expect(sessions).toEqual([client.sessionId]);
    // The old session's ephemeral goes once the server expires it.
    await waitFor(async () => (await client.exists('/e')) === null, { timeout: 15_000 });
  });

  test('session - expireSession: lost, then a new session, with auth re-applied', async ({
    zk,
  }) => {
    const client = await zk.client({
      sessionTimeout: 2000,
      auth: [{ scheme: 'digest', credentials: 'bob:pw' }],
    });
    await client.create('/bobs', 'x', { acl: [{ perms: 31, scheme: 'auth', id: '' }] });
    const seen = record(client);
    const first = client.sessionId;
    const signal = client.sessionSignal();
    await expireSession(client);
    expect(seen).toContain('lost');
    // Under the default policy the signal aborted already at the suspension that preceded loss.
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ZkError);
    await waitFor(() => client.state === 'reconnected', { timeout: 10_000 });
    expect(client.sessionId).not.toBe(first);
    // Still authenticated as bob on the new session.
    expect((await client.get('/bobs')).data.toString()).toBe('x');
    await client.delete('/bobs'); // the fixture's cleanup is not authorised to
  });

  test('session - a partition: suspended, then lost on the client side after the session timeout', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, { sessionTimeout: 2000 });
    await client.start();
    const seen = record(client);
    const suspendedSignal = client.sessionSignal();
    proxy.partition();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    expect(suspendedSignal.aborted).toBe(true);
    expect(suspendedSignal.reason).toBeInstanceOf(ConnectionLossError);
    await waitFor(() => client.state === 'lost', { timeout: 10_000 });
    proxy.heal();
    await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
    expect(seen.slice(0, 3)).toEqual(['suspended', 'lost', 'reconnected']);
  });

  test('session - requests made during a suspension are retried and succeed after reconnection', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, { sessionTimeout: 6000 });
    await client.start();
    await client.create('/r', 'v0');
    proxy.partition();
    // In flight when the link goes silent, and issued once suspended.
    const inFlight = client.set('/r', 'v1');
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    const issuedLater = client.get('/r');
    proxy.heal();
    // An unconditional set whose outcome was unknown may land twice: the data is what counts.
    const [setResult, laterResult] = await Promise.all([inFlight, issuedLater]);
    expect(setResult.version).toBeGreaterThanOrEqual(1);
    expect(laterResult.data.toString()).toMatch(/^v[01]$/);
    expect(client.state).toBe('reconnected');
    expect((await client.get('/r')).data.toString()).toBe('v1');
  });

  test('session - a dropped connection comes back to the same session', async ({ zk }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, { sessionTimeout: 4000 });
    await client.start();
    const session = client.sessionId;
    proxy.drop();
    await expect(client.create('/after-drop')).resolves.toBe('/after-drop');
    await waitFor(() => client.state === 'reconnected' || client.state === 'connected', {
      timeout: 10_000,
    });
    expect(client.sessionId).toBe(session);
  });

  test("session - sessionSignal under the 'lost' policy survives a suspension and aborts on loss", async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, {
      sessionTimeout: 2000,
      errorPolicy: 'lost',
    });
    await client.start();
    const signal = client.sessionSignal();
    proxy.partition();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    expect(signal.aborted).toBe(false);
    await waitFor(() => client.state === 'lost', { timeout: 10_000 });
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(SessionExpiredError);
    proxy.heal();
    await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
    expect(client.sessionSignal().aborted).toBe(false);
  });

  test("session - under the 'lost' policy a signal taken before a blip still aborts on a later loss", async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, {
      sessionTimeout: 4000,
      errorPolicy: 'lost',
    });
    await client.start();
    const signal = client.sessionSignal();
    proxy.drop();
    await client.whenConnected({ timeout: 10_000 });
    await client.exists('/'); // the drop is noticed by now, and the session is the same
    expect(client.sessionSignal()).toBe(signal);
    expect(signal.aborted).toBe(false);
    await expireSession(client);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(SessionExpiredError);
  });

  test('session - whenConnected waits for the connection, and rejects on close', async ({ zk }) => {
    const proxy = await zk.proxy();
    const client = new ZkClient(proxy.connectString, { sessionTimeout: 4000 });
    await client.start();
    await client.whenConnected();
    proxy.partition();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    const waiting = client.whenConnected();
    const timed = await client.whenConnected({ timeout: 20 }).catch((e: unknown) => e);
    expect((timed as DOMException).name).toBe('TimeoutError');
    proxy.heal();
    await waiting;
    expect(client.isConnected).toBe(true);
    proxy.partition();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    const pending = client.whenConnected();
    // Handled from the start: close() rejects it at once, and may take a while to resolve itself.
    const rejected = expect(pending).rejects.toBeInstanceOf(ClientClosedError);
    proxy.heal();
    await client.close();
    await rejected;
  });

  test('session - start rejects with TimeoutError when no server answers, and closes', async () => {
    const client = new ZkClient('127.0.0.1:1', { connectTimeout: 500 });
    const error = await client.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as ConnectTimeoutError).name).toBe('TimeoutError');
    expect(client.state).toBe('closed');
  });

  test('session - attaching to an expired session rejects instead of opening another', async ({
    zk,
  }) => {
    const client = await zk.client({ sessionTimeout: 2000 });
    const credentials = client.sessionCredentials();
    await client.close();
    const twin = new ZkClient(zk.connectString, { session: credentials, sessionTimeout: 2000 });
    await expect(twin.start()).rejects.toBeInstanceOf(SessionExpiredError);
    expect(twin.state).toBe('closed');
  });
});
