import { createConnection, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TestCertificates, ZooKeeperEnsemble, ZooKeeperServer } from '@zkit/testing';
import { NoAuthError, Perms, TlsError, ZkClient } from '@zkit/core';

// One TLS server for the file: certificates from a throw-away authority made at test time.
let ca: TestCertificates;
let server: ZooKeeperServer;

beforeAll(async () => {
  ca = await TestCertificates.create();
  server = await ZooKeeperServer.start({ tls: ca });
});

afterAll(async () => {
  await server?.stop();
  await ca?.remove();
});

/** A TCP relay to `target` that counts the connections made through it. */
async function countingRelay(
  target: string,
): Promise<{ address: string; count: () => number; server: Server }> {
  const [host, port] = target.split(':') as [string, string];
  let count = 0;
  const relay = createServer((socket) => {
    count++;
    const upstream = createConnection({ host, port: Number(port) });
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = relay.address();
  if (address === null || typeof address === 'string') throw new Error('no relay port');
  return { address: `127.0.0.1:${address.port}`, count: () => count, server: relay };
}

describe('TLS', () => {
  test('tls - a client that trusts the authority works over the secure port, by address or by name', async () => {
    const secure = server.secureConnectString as string;
    await using byAddress = new ZkClient(secure, { transport: 'wire', tls: { ca: ca.ca } });
    await byAddress.start();
    await byAddress.create('/tls-plain', 'over tls');
    expect((await byAddress.get('/tls-plain')).data.toString()).toBe('over tls');
    // The certificate is for 127.0.0.1 and localhost: a name is checked as a name.
    await using byName = new ZkClient(secure.replace('127.0.0.1', 'localhost'), {
      transport: 'wire',
      tls: { ca: ca.ca },
    });
    await byName.start();
    expect((await byName.get('/tls-plain')).data.toString()).toBe('over tls');
    // Without a client certificate the server knows the client by its address only.
    expect(await byAddress.whoAmI()).toEqual([{ scheme: 'ip', user: '127.0.0.1' }]);
  });

  test('tls - with mutual TLS a node whose x509 ACL names our certificate is ours alone', async () => {
    const secure = server.secureConnectString as string;
    const [alice, bob] = await Promise.all([ca.issue('alice'), ca.issue('bob')]);
    await using asAlice = new ZkClient(secure, {
      transport: 'wire',
      tls: { ca: ca.ca, cert: alice.cert, key: alice.key },
    });
    await using asBob = new ZkClient(secure, {
      transport: 'wire',
      tls: { ca: ca.ca, cert: bob.cert, key: bob.key },
    });
    await Promise.all([asAlice.start(), asBob.start()]);
    expect(await asAlice.whoAmI()).toContainEqual({ scheme: 'x509', user: alice.subject });
    await asAlice.create('/alice-only', 'secret', {
      acl: [{ scheme: 'x509', id: alice.subject, perms: Perms.all }],
    });
    expect((await asAlice.get('/alice-only')).data.toString()).toBe('secret');
    await expect(asBob.get('/alice-only')).rejects.toThrow(NoAuthError);
    await expect(asBob.set('/alice-only', 'mine')).rejects.toThrow(NoAuthError);
    expect((await asAlice.getAcl('/alice-only')).acl).toEqual([
      { scheme: 'x509', id: alice.subject, perms: Perms.all },
    ]);
  });

  test('tls - a server certificate from another authority fails start with TlsError after one attempt, and the client closes', async () => {
    await using other = await TestCertificates.create({ name: 'another CA' });
    const relay = await countingRelay(server.secureConnectString as string);
    try {
      const client = new ZkClient(relay.address, {
        transport: 'wire',
        tls: { ca: other.ca },
        connectTimeout: 30_000,
      });
      const error = await client.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TlsError);
      expect((error as TlsError).servers).toEqual([
        { server: relay.address, error: expect.stringMatching(/certificate/i) as unknown },
      ]);
      expect(client.state).toBe('closed');
      // One round over the one server: a single connection, no retry.
      expect(relay.count()).toBe(1);
    } finally {
      relay.server.close();
    }
  });
});

describe('TLS ensemble', () => {
  test('tls - a client on an ensemble over TLS moves to another member with its session and watches', async () => {
    await using ensemble = await ZooKeeperEnsemble.start({ size: 3, tls: ca });
    const secure = ensemble.secureConnectString as string;
    expect(secure.split(',')).toHaveLength(3);
    await using client = new ZkClient(secure, {
      transport: 'wire',
      tls: { ca: ca.ca },
      sessionTimeout: 10_000,
    });
    await client.start();
    const session = client.sessionId;
    await client.create('/tls-moved', 'before');
    const watched = await client.existsWatched('/tls-moved');
    const member = ensemble.servers.findIndex((s) => s.secureConnectString === client.server);
    expect(member).toBeGreaterThanOrEqual(0);
    await ensemble.kill(member);
    await client.whenConnected({ timeout: 30_000 });
    expect(client.sessionId).toBe(session);
    expect(client.server).not.toBe(ensemble.servers[member]?.secureConnectString);
    await client.set('/tls-moved', 'after');
    await watched.changed;
    expect((await client.get('/tls-moved')).data.toString()).toBe('after');
  });
});
