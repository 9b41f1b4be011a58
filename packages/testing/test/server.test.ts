import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ZkClient, type ConnectionState } from '@zkit/core';
import { afterEach, describe, expect, test } from 'vitest';
import { ServerNotRunningError, ServerStartError, waitFor, ZooKeeperServer } from '../src/index.js';

const servers: ZooKeeperServer[] = [];
const clients: ZkClient[] = [];

async function startServer(
  options?: Parameters<typeof ZooKeeperServer.start>[0],
): Promise<ZooKeeperServer> {
  const server = await ZooKeeperServer.start(options);
  servers.push(server);
  return server;
}

async function connect(server: ZooKeeperServer, sessionTimeout = 4000): Promise<ZkClient> {
  const client = new ZkClient(server.connectString, { sessionTimeout });
  clients.push(client);
  await client.start();
  return client;
}

/** Every state a client goes through, for asserting what did (not) happen. */
function recordStates(client: ZkClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  client.on('state', (now) => states.push(now));
  return states;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('ZooKeeperServer', () => {
  test('server - starts on a free loopback port and serves a client', async () => {
    const server = await startServer();
    expect(server.connectString).toBe(`127.0.0.1:${server.port}`);
    expect(server.state).toBe('running');
    expect(await server.mode()).toBe('standalone');
    const conf = await server.fourLetter('conf');
    expect(conf).toMatch(/^tickTime=100$/m);
    expect(conf).toMatch(/^maxSessionTimeout=60000$/m);
    const client = await connect(server);
    await client.create('/hello', 'world');
    expect((await client.get('/hello')).data.toString()).toBe('world');
  });

  test('server - stop() ends the JVM and removes its files', async () => {
    const server = await startServer();
    const pid = server.pid;
    expect(pid).toBeTypeOf('number');
    const dir = dirname(server.dataDir);
    expect(existsSync(dir)).toBe(true);
    await server.stop();
    expect(server.state).toBe('stopped');
    expect(server.pid).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    expect(isAlive(pid ?? -1)).toBe(false);
    await server.stop(); // idempotent
    await expect(server.restart()).rejects.toBeInstanceOf(ServerNotRunningError);
  });

  test('server - restart() keeps the data and the sessions', async () => {
    const server = await startServer();
    // The restarted server gives each restored session its full timeout again from its own start;
    // 4 s was less than a loaded machine sometimes needs from there to the client's reconnect.
    const client = await connect(server, 20_000);
    const states = recordStates(client);
    const session = client.sessionId;
    await client.create('/kept', 'data');
    await client.create('/mine', '', { mode: 'ephemeral' });
    const pidBefore = server.pid;

    await server.restart();

    expect(server.pid).not.toBe(pidBefore);
    await waitFor(() => client.state === 'reconnected', { timeout: 10_000 });
    expect(client.sessionId).toBe(session);
    expect(states).not.toContain('lost');
    expect((await client.get('/kept')).data.toString()).toBe('data');
    expect((await client.exists('/mine'))?.ephemeralOwner).toBe(session);
  });

  test('server - kill() crashes the JVM and restart() brings back its data', async () => {
    const server = await startServer();
    const client = await connect(server);
    await client.create('/survivor', 'x');
    const pid = server.pid ?? -1;

    await server.kill();

    expect(server.state).toBe('down');
    expect(isAlive(pid)).toBe(false);
    await waitFor(() => client.state === 'suspended', { timeout: 5000 });
    await expect(server.pause()).rejects.toBeInstanceOf(ServerNotRunningError);
    await server.kill(); // a no-op when already down

    await server.restart();
    expect(server.state).toBe('running');
    await waitFor(() => client.state === 'reconnected', { timeout: 10_000 });
    expect(await client.exists('/survivor')).not.toBeNull();
  });

  test('server - a session survives pause() shorter than its timeout', async () => {
    const server = await startServer();
    const client = await connect(server, 4000);
    const states = recordStates(client);
    const session = client.sessionId;
    await client.create('/ephemeral', '', { mode: 'ephemeral' });

    await server.pause();
    expect(server.state).toBe('paused');
    await expect(server.fourLetter('ruok', { timeout: 300 })).rejects.toThrow(/no complete answer/);
    // The fault itself lasts a fixed time, well inside the 2/3 of the session timeout after
    // which the client would give up on the connection.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await server.resume();

    expect(await client.exists('/ephemeral')).not.toBeNull();
    expect(client.sessionId).toBe(session);
    expect(states).not.toContain('lost');
  });

  test('server - mntr() counters move when requests are made', async () => {
    const server = await startServer();
    const client = await connect(server);
    const before = await server.mntr();
    expect(before['zk_server_state']).toBe('standalone');
    for (let i = 0; i < 10; i += 1) await client.create(`/n${i}`);
    const after = await server.mntr();
    const received = (m: typeof before): number => Number(m['zk_packets_received']);
    expect(received(after) - received(before)).toBeGreaterThanOrEqual(10);
    expect(Number(after['zk_znode_count']) - Number(before['zk_znode_count'])).toBe(10);
  });

  test('server - a failed start reports the server output', async () => {
    const error: unknown = await ZooKeeperServer.start({ config: { tickTime: 'soon' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServerStartError);
    const startError = error as ServerStartError;
    expect(startError.code).toBe('SERVER_START_FAILED');
    expect(startError.message).toMatch(/exited/);
    expect(startError.output.join('\n')).toMatch(/Invalid config/);
  });

  test('server - testDefaults: false runs the untuned config', async () => {
    const server = await startServer({ testDefaults: false });
    const conf = await server.fourLetter('conf');
    expect(conf).toMatch(/^tickTime=2000$/m);
    expect(conf).toMatch(/^maxSessionTimeout=40000$/m);
  });
});
