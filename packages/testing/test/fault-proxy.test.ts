import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ConnectionState } from '@zkit/core';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { FaultProxy, waitFor } from '../src/index.js';
import { test } from '../src/vitest.js';

/** A TCP server that answers every chunk with the same bytes, to watch the proxy byte by byte. */
let echo: Server;
let echoAddress: string;
const sockets: Socket[] = [];
const proxies: FaultProxy[] = [];

beforeEach(async () => {
  echo = createServer((socket) => {
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const address = echo.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  echoAddress = `127.0.0.1:${address.port}`;
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await new Promise((resolve) => echo.close(resolve));
});

async function startProxy(target: string): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ target });
  proxies.push(proxy);
  return proxy;
}

/** A client socket through the proxy that collects what it receives and how it ended. */
async function open(proxy: FaultProxy): Promise<{
  socket: Socket;
  received: () => string;
  ended: () => string | undefined;
}> {
  const port = proxy.ports[0];
  const socket = connect({ host: '127.0.0.1', port: port ?? 0 });
  sockets.push(socket);
  let text = '';
  let end: string | undefined;
  socket.on('data', (chunk) => (text += chunk.toString()));
  socket.on('error', (error: NodeJS.ErrnoException) => (end ??= error.code ?? 'error'));
  socket.on('close', () => (end ??= 'close'));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => text, ended: () => end };
}

describe('FaultProxy over raw TCP', () => {
  test('proxy - forwards bytes both ways and counts connections', async () => {
    const proxy = await startProxy(echoAddress);
    expect(proxy.connectString).toBe(`127.0.0.1:${proxy.ports[0]}`);
    const a = await open(proxy);
    a.socket.write('ping');
    await waitFor(() => a.received() === 'ping', { timeout: 2000 });
    expect(proxy.connections).toBe(1);
    a.socket.end();
    await waitFor(() => proxy.connections === 0, { timeout: 2000 });
  });

  test('proxy - partition() holds bytes both ways and heal() delivers them in order', async () => {
    const proxy = await startProxy(echoAddress);
    const a = await open(proxy);
    a.socket.write('1');
    await waitFor(() => a.received() === '1', { timeout: 2000 });

    proxy.partition();
    a.socket.write('2');
    a.socket.write('3');
    const late = await open(proxy); // accepted, but not forwarded
    late.socket.write('x');
    // Nothing may arrive while partitioned: give the bytes every chance to leak through.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.received()).toBe('1');
    expect(late.received()).toBe('');
    expect(a.ended()).toBeUndefined();
    expect(proxy.connections).toBe(2);

    proxy.heal();
    await waitFor(() => a.received() === '123' && late.received() === 'x', { timeout: 2000 });
  });

  test('proxy - drop() resets every open connection', async () => {
    const proxy = await startProxy(echoAddress);
    const a = await open(proxy);
    const b = await open(proxy);
    await waitFor(() => proxy.connections === 2, { timeout: 2000 });

    proxy.drop();

    await waitFor(() => a.ended() !== undefined && b.ended() !== undefined, { timeout: 2000 });
    expect(a.ended()).toBe('ECONNRESET');
    expect(b.ended()).toBe('ECONNRESET');
    expect(proxy.connections).toBe(0);
    const c = await open(proxy); // new connections are served as usual
    c.socket.write('again');
    await waitFor(() => c.received() === 'again', { timeout: 2000 });
  });

  test('proxy - a multi-server target gets one listener per server and keeps the chroot', async () => {
    const proxy = await startProxy(`${echoAddress},${echoAddress}/some/chroot`);
    expect(proxy.ports).toHaveLength(2);
    expect(proxy.connectString).toBe(
      `127.0.0.1:${proxy.ports[0]},127.0.0.1:${proxy.ports[1]}/some/chroot`,
    );
    expect(() => proxy.partition(2)).toThrow(RangeError);
  });
});

describe('FaultProxy in front of ZooKeeper', () => {
  test('proxy - partition() makes the client suspend, heal() restores the same session', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 3000 });
    const states: ConnectionState[] = [];
    client.on('state', (now) => states.push(now));
    const session = client.sessionId;
    await client.create('/mine', '', { mode: 'ephemeral' });

    proxy.partition();
    // The native client notices silence after 2/3 of the session timeout.
    await waitFor(() => client.state === 'suspended', { timeout: 5000 });
    proxy.heal();

    await waitFor(() => client.state === 'reconnected', { timeout: 5000 });
    expect(client.sessionId).toBe(session);
    expect(states).toEqual(['suspended', 'reconnected']);
    expect((await client.exists('/mine'))?.ephemeralOwner).toBe(session);
  });

  test('proxy - drop() costs the connection but not the session', async ({ zk }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const states: ConnectionState[] = [];
    client.on('state', (now) => states.push(now));
    const session = client.sessionId;
    expect(proxy.connections).toBe(1);

    proxy.drop();

    await waitFor(() => states.includes('suspended') && client.state === 'reconnected', {
      timeout: 5000,
    });
    expect(client.sessionId).toBe(session);
    expect(proxy.connections).toBe(1);
  });

  test('proxy - a partition longer than the session timeout loses the session', async ({ zk }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 1000 });
    const session = client.sessionId;
    await client.create('/mine', '', { mode: 'ephemeral' });

    proxy.partition();
    await waitFor(() => client.state === 'lost', { timeout: 5000 });
    // The server expires it too: its ephemeral node goes, seen from outside the partition.
    const observer = await zk.client();
    await waitFor(async () => (await observer.exists('/mine')) === null, { timeout: 5000 });
    proxy.heal();

    await waitFor(() => client.state === 'reconnected', { timeout: 5000 });
    expect(client.sessionId).not.toBe(session);
  });
});
