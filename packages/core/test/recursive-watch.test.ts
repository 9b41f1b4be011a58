import { createServer, type Server, type Socket } from 'node:net';
import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { waitFor } from '@zkit/testing';
import {
  ClientClosedError,
  UnimplementedError,
  WatchConnection,
  ZkClient,
  watchRecursive,
  type RecursiveWatchEvent,
} from '@zkit/core';

function describeEvent(e: RecursiveWatchEvent): string {
  return 'path' in e ? `${e.type} ${e.path}` : e.type;
}

/**
 * A stand-in for a ZooKeeper server older than 3.6: it accepts sessions and answers every request
 * with ZUNIMPLEMENTED (-6), as those servers do for an unknown opcode.
 */
async function oldServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    connections++;
    let handshake = true;
    let pending = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const packet = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + packet.length);
        if (handshake) {
          handshake = false;
          // protocolVersion, timeOut, sessionId, passwd (16 bytes), readOnly
          const body = Buffer.alloc(4 + 4 + 8 + 4 + 16 + 1);
          body.writeInt32BE(10_000, 4);
          body.writeBigInt64BE(0x42n, 8);
          body.writeInt32BE(16, 16);
          socket.write(Buffer.concat([frameLength(body.length), body]));
          continue;
        }
        const xid = packet.readInt32BE(0);
        const reply = Buffer.alloc(16);
        reply.writeInt32BE(xid, 0);
        reply.writeBigInt64BE(0n, 4);
        reply.writeInt32BE(xid === -2 ? 0 : -6, 12);
        socket.write(Buffer.concat([frameLength(reply.length), reply]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, connections: () => connections };
}

function frameLength(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

describe('recursive watch', () => {
  test('recursive watch - each watch of a client hears its own subtree, through one shared connection', async ({
    zk,
  }) => {
    const client = await zk.client({ sessionTimeout: 10_000 });
    const writer = await zk.client();
    const a: string[] = [];
    const all: string[] = [];
    const wa = watchRecursive(client, '/a', (e) => a.push(describeEvent(e)));
    const wall = watchRecursive(client, '/', (e) => all.push(describeEvent(e)));
    await Promise.all([wa.ready(), wall.ready()]);
    expect(wa.active && wall.active).toBe(true);

    await writer.create('/a');
    await writer.create('/a/x', 'v');
    await writer.create('/b');
    await waitFor(() => all.length === 3);
    expect(a).toEqual(['created /a', 'created /a/x']);
    expect(all).toEqual(['created /a', 'created /a/x', 'created /b']);

    await wa.close();
    expect(wa.active).toBe(false);
    await writer.set('/a/x', 'w');
    await writer.create('/c');
    await waitFor(() => all.length === 5);
    expect(all.slice(3)).toEqual(['dataChanged /a/x', 'created /c']);
    expect(a).toHaveLength(2);
    await wall.close();
  });

  test('recursive watch - a proxy drop reaches the listener as interrupted, then resumed', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 10_000 });
    const writer = await zk.client();
    const seen: string[] = [];
    await using watch = watchRecursive(client, '/svc', (e) => seen.push(describeEvent(e)));
    await watch.ready();
    proxy.drop();
    await waitFor(() => seen.includes('resumed'));
    expect(seen.slice(0, 2)).toEqual(['interrupted', 'resumed']);
    expect(watch.active).toBe(true);
    await writer.create('/svc');
    await waitFor(() => seen.includes('created /svc'));
  });

  test('recursive watch - closing the client ends its watches, and later ones reject', async ({
    zk,
  }) => {
    const client = await zk.client();
    const watch = watchRecursive(client, '/svc', () => undefined);
    await watch.ready();
    await client.close();
    await waitFor(() => !watch.active);
    const later = watchRecursive(client, '/svc', () => undefined);
    await expect(later.ready()).rejects.toBeInstanceOf(ClientClosedError);
  });

  test('recursive watch - a server without addWatch fails it with UnimplementedError, once per client (native: extra connection)', async () => {
    const old = await oldServer();
    try {
      // A client never started: its extra connection sets the watch all the same.
      const client = new ZkClient(`127.0.0.1:${old.port}`, { transport: 'native' });
      const first = watchRecursive(client, '/svc', () => undefined);
      await expect(first.ready()).rejects.toBeInstanceOf(UnimplementedError);
      const second = watchRecursive(client, '/other', () => undefined);
      await expect(second.ready()).rejects.toBeInstanceOf(UnimplementedError);
      expect(old.connections()).toBe(1);
      await client.close();
    } finally {
      old.server.close();
    }
  });

  test('recursive watch - a server without addWatch fails it with UnimplementedError, once per client (wire: own session)', async () => {
    const old = await oldServer();
    try {
      const client = new ZkClient(`127.0.0.1:${old.port}`, { transport: 'wire' });
      // Asked for before the start: the watch is set once the client is connected.
      const first = watchRecursive(client, '/svc', () => undefined);
      await client.start();
      await expect(first.ready()).rejects.toBeInstanceOf(UnimplementedError);
      const second = watchRecursive(client, '/other', () => undefined);
      await expect(second.ready()).rejects.toBeInstanceOf(UnimplementedError);
      expect(old.connections()).toBe(1);
      await client.close();
    } finally {
      old.server.close();
    }
  });

  test('recursive watch - a server without multi-read fails getMany with UnimplementedError', async () => {
    const old = await oldServer();
    try {
      await using conn = new WatchConnection(`127.0.0.1:${old.port}`);
      await expect(conn.getMany(['/a', '/b'])).rejects.toBeInstanceOf(UnimplementedError);
      // The connection stays usable: the refusal is the server's answer, not a broken stream.
      await expect(conn.getChildren('/a')).rejects.toBeInstanceOf(UnimplementedError);
      expect(old.connections()).toBe(1);
    } finally {
      old.server.close();
    }
  });
});
