import { createConnection, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ZooKeeperServer, waitFor } from '@zkit/testing';
import { AuthFailedError, NoAuthError, Perms, ZkClient } from '@zkit/core';

// One SASL server for the file, with two DIGEST-MD5 users.
let server: ZooKeeperServer;

beforeAll(async () => {
  server = await ZooKeeperServer.start({
    sasl: { users: { alice: 'alice-secret', bob: 'bob "quoted" secret' } },
  });
});

afterAll(async () => {
  await server?.stop();
});

function login(username: string, password: string, connectString = server.connectString) {
  return new ZkClient(connectString, {
    transport: 'wire',
    sasl: { mechanism: 'DIGEST-MD5', username, password },
  });
}

describe('SASL', () => {
  test('sasl - a DIGEST-MD5 login makes the session its user, for the sasl ACL scheme, on every connection', async () => {
    await using alice = login('alice', 'alice-secret');
    await using bob = login('bob', 'bob "quoted" secret');
    // One after the other: ZooKeeper's server answers every DIGEST-MD5 login through one shared
    // callback handler that keeps the user name between its callbacks, so two logins at the same
    // moment can check one user's response against the other's password.
    await alice.start();
    await bob.start();
    expect(await alice.whoAmI()).toContainEqual({ scheme: 'sasl', user: 'alice' });
    await alice.create('/alice-only', 'secret', {
      acl: [{ scheme: 'sasl', id: 'alice', perms: Perms.all }],
    });
    expect((await alice.get('/alice-only')).data.toString()).toBe('secret');
    await expect(bob.get('/alice-only')).rejects.toThrow(NoAuthError);
    await using anonymous = new ZkClient(server.connectString, { transport: 'wire' });
    await anonymous.start();
    await expect(anonymous.get('/alice-only')).rejects.toThrow(NoAuthError);

    // A new connection of the same session logs in again before anything else is sent.
    const session = alice.sessionId;
    await server.restart();
    await waitFor(() => alice.state === 'reconnected', { message: 'alice to reconnect' });
    expect(alice.sessionId).toBe(session);
    expect((await alice.get('/alice-only')).data.toString()).toBe('secret');
  });

  test('sasl - a wrong password fails start with AuthFailedError after one connection, and the client closes', async () => {
    const [host, port] = server.connectString.split(':') as [string, string];
    let connections = 0;
    const relay = createServer((socket) => {
      connections++;
      const upstream = createConnection({ host, port: Number(port) });
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const address = relay.address() as { port: number };
      const client = login('alice', 'wrong', `127.0.0.1:${address.port}`);
      const states: string[] = [];
      client.on('state', (now) => states.push(now));
      await expect(client.start()).rejects.toThrow(AuthFailedError);
      expect(client.state).toBe('closed');
      expect(states).toEqual(['closed']);
      expect(connections).toBe(1);
      await expect(client.exists('/')).rejects.toThrow(/closed/);
    } finally {
      relay.close();
    }
  });
});
