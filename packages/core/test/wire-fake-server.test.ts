/**
 * What a real ZooKeeper server never sends, played by a small fake one: each broken stream must
 * end in a typed error for the request in flight and a reconnect, never in a crash or an
 * unhandled rejection.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { waitFor } from '@zkit/testing';
import { ConnectionLossError, ProtocolError } from '../src/errors.js';
import { openWireTransport } from '../src/wire/wire-transport.js';

const OP_EXISTS = 3;
const OP_PING = 11;
const OP_CLOSE = -11;
const SESSION_ID = 0x1234n;

function frame(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function int(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

function long(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}

function reply(xid: number, body: Buffer = Buffer.alloc(0), zxid = 100n): Buffer {
  return frame(int(xid), long(zxid), int(0), body);
}

/** A stat with version 7, all else zero (68 bytes, as the protocol lays it out). */
const STAT = Buffer.concat([
  long(0n),
  long(0n),
  long(0n),
  long(0n),
  int(7),
  int(0),
  int(0),
  long(0n),
  int(0),
  int(0),
  long(0n),
]);

/**
 * A server that shakes hands and answers `exists` and pings properly, except that on the first
 * connection it answers the first `exists` with `misbehave`.
 */
async function fakeServer(
  misbehave: (socket: Socket, xid: number) => void,
  options: { timeout?: number; answerPings?: boolean } = {},
) {
  const { timeout = 6000, answerPings = true } = options;
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const n = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let handshaken = false;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const packet = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + packet.length);
        if (!handshaken) {
          handshaken = true;
          socket.write(
            frame(
              int(0),
              int(timeout),
              long(SESSION_ID),
              int(16),
              Buffer.alloc(16),
              Buffer.from([0]),
            ),
          );
          continue;
        }
        const xid = packet.readInt32BE(0);
        const type = packet.readInt32BE(4);
        if (type === OP_PING) {
          if (answerPings) socket.write(reply(-2));
        } else if (type === OP_EXISTS && n === 1) misbehave(socket, xid);
        else if (type === OP_EXISTS) socket.write(reply(xid, STAT));
        else if (type === OP_CLOSE) socket.end(reply(xid));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    connectString: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const cases: [name: string, misbehave: (socket: Socket, xid: number) => void, says: RegExp][] = [
  [
    'a frame cut short by the end of the connection',
    (socket) => socket.end(Buffer.concat([int(100), Buffer.alloc(20)])),
    /ended after 20 of a frame's 100 bytes/,
  ],
  [
    'a frame longer than the limit',
    (socket) => socket.write(Buffer.concat([int(64 * 1024 * 1024), Buffer.alloc(64)])),
    /frame of 67108864 bytes/,
  ],
  [
    'a reply that does not answer the oldest request',
    (socket, xid) => socket.write(reply(xid + 7, STAT)),
    /oldest request in flight is/,
  ],
  [
    'garbage after the handshake',
    (socket) => socket.write(frame(Buffer.from('garbage'))),
    /has no header/,
  ],
  [
    'a server going back in time (a zxid older than one it sent before)',
    (socket, xid) => {
      socket.write(reply(-2, Buffer.alloc(0), 50n));
      socket.write(reply(xid, STAT, 3n));
    },
    /the server is behind: zxid 3 after 50/,
  ],
  [
    'a reply too short for its record',
    (socket, xid) => socket.write(reply(xid, STAT.subarray(0, 30))),
    /unreadable reply/,
  ],
];

describe('wire transport against a misbehaving server', () => {
  test.each(cases)(
    'wire transport - %s: a ProtocolError for the request, then a reconnect to the same session',
    async (_name, misbehave, says) => {
      await using server = await fakeServer(misbehave);
      const log = { connected: 0, disconnected: 0, closed: [] as number[] };
      const transport = openWireTransport(
        { connectString: server.connectString, sessionTimeout: 6000 },
        {
          connected: () => log.connected++,
          disconnected: () => log.disconnected++,
          closed: (code) => log.closed.push(code),
          node: () => undefined,
        },
      );
      try {
        await waitFor(() => transport.connected, { message: 'the handshake' });
        const error = await transport.exists('/x', false).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConnectionLossError);
        const cause = (error as ConnectionLossError).cause;
        expect(cause).toBeInstanceOf(ProtocolError);
        expect((cause as ProtocolError).message).toMatch(says);
        await waitFor(() => log.connected === 2, { message: 'the reconnect' });
        expect(log.disconnected).toBe(1);
        expect(server.connections).toBe(2);
        expect(transport.sessionId).toBe(SESSION_ID.toString(16));
        expect(await transport.exists('/x', false)).toMatchObject({ version: 7 });
        expect(log.closed).toEqual([]);
      } finally {
        await transport.close();
      }
    },
  );

  test('wire transport - a reply arriving slowly in pieces keeps the connection alive past the read timeout', async () => {
    // Read timeout: 2/3 × 600 ms = 400 ms; the reply takes about 1.1 s, a piece every 100 ms, and
    // the server answers no ping meanwhile (it is busy sending).
    const whole = reply(1, STAT);
    await using server = await fakeServer(
      (socket) => {
        let at = 0;
        const timer = setInterval(() => {
          socket.write(whole.subarray(at, at + 8));
          at += 8;
          if (at >= whole.length) clearInterval(timer);
        }, 100);
        socket.on('close', () => clearInterval(timer));
      },
      { timeout: 600, answerPings: false },
    );
    let disconnected = 0;
    const transport = openWireTransport(
      { connectString: server.connectString, sessionTimeout: 600 },
      {
        connected: () => undefined,
        disconnected: () => disconnected++,
        closed: () => undefined,
        node: () => undefined,
      },
    );
    try {
      await waitFor(() => transport.connected, { message: 'the handshake' });
      expect(await transport.exists('/x', false)).toMatchObject({ version: 7 });
      expect(disconnected).toBe(0);
      expect(server.connections).toBe(1);
    } finally {
      await transport.close();
    }
  });

  test('wire transport - a server that drops every session right after the handshake is retried with growing pauses', async () => {
    const attempts: number[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      attempts.push(performance.now());
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () =>
        socket.end(
          frame(int(0), int(6000), long(SESSION_ID), int(16), Buffer.alloc(16), Buffer.from([0])),
        ),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const transport = openWireTransport(
      { connectString: `127.0.0.1:${port}`, sessionTimeout: 6000 },
      {
        connected: () => undefined,
        disconnected: () => undefined,
        closed: () => undefined,
        node: () => undefined,
      },
    );
    try {
      await waitFor(() => attempts.length >= 6, { message: 'six attempts' });
      const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
      // Backoff doubles from 25 ms with a random factor in [0.5, 1]: the fifth pause is ≥ 400 ms.
      expect(gaps[4]).toBeGreaterThanOrEqual(300);
    } finally {
      await transport.close();
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
