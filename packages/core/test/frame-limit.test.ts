import diagnostics from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperServer } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import {
  ConnectionLossError,
  RequestRefusedError,
  RequestTooLargeError,
  ZkClient,
  type ConnectionState,
  type OpMessage,
} from '@zkit/core';

const MAX_DATA = 1024 * 1024 - 1024;

/** Every state the client passes through while `fn` runs, and the requests it makes. */
async function observe(client: ZkClient, fn: () => Promise<unknown>) {
  const states: ConnectionState[] = [];
  const ops: string[] = [];
  const onState = (now: ConnectionState) => states.push(now);
  const onOp = (message: unknown) => {
    const m = message as OpMessage;
    if (m.client === client) ops.push(m.op);
  };
  client.on('state', onState);
  diagnostics.subscribe('zkit:op', onOp);
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  } finally {
    client.off('state', onState);
    diagnostics.unsubscribe('zkit:op', onOp);
  }
  return { states, ops, error };
}

describe('frame limit', () => {
  test('frame limit - a create whose path and data together exceed the server limit fails at once, typed, and the client never flaps', async ({
    zk,
  }) => {
    const client = await zk.client({ sessionTimeout: 4000 });
    await client.create('/bi', '');
    const path = `/bi/${'p'.repeat(1000)}`;
    const seen = await observe(client, () => client.create(path, Buffer.alloc(MAX_DATA)));
    expect(seen.error).toBeInstanceOf(RequestTooLargeError);
    const error = seen.error as RequestTooLargeError;
    expect(error.code).toBe('REQUEST_TOO_LARGE');
    expect(error.limit).toBe(0xfffff);
    expect(error.size).toBeGreaterThan(0xfffff);
    // Refused before sending: no request, no suspension, the session untouched.
    expect(seen.ops).toEqual([]);
    expect(seen.states).toEqual([]);
    expect(client.state).toBe('connected');
    await expect(client.exists(path)).resolves.toBeNull();
    await expect(client.getChildren('/bi')).resolves.toEqual([]);
  });

  test('frame limit - the largest request the server answers is sent, one byte more is refused', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/edge', '');
    // The frame of a create: header 8, path (4 + length, chroot included), data (4 + length),
    // the open ACL (4 + 4 + 4+5 + 4+6 = 27), flags 4.
    const chroot = zk.connectString.slice(zk.connectString.indexOf('/'));
    const path = '/edge/n';
    const fixed = 8 + 4 + Buffer.byteLength(chroot + path) + 4 + 27 + 4;
    const fits = 0xfffff - fixed;
    const big = await zk.client({ maxDataBytes: fits + 1 });
    const seen = await observe(big, () => big.create(path, Buffer.alloc(fits + 1)));
    expect(seen.error).toBeInstanceOf(RequestTooLargeError);
    expect((seen.error as RequestTooLargeError).size).toBe(0xfffff + 1);
    expect(seen.ops).toEqual([]);
    await expect(big.create(path, Buffer.alloc(fits))).resolves.toBe(path);
    expect((await client.exists(path))?.dataLength).toBe(fits);
    expect(big.state).toBe('connected');
  });

  test('frame limit - a 1.2 MB path is refused for every kind of request, before sending', async ({
    zk,
  }) => {
    const client = await zk.client();
    const path = `/${'q'.repeat(1_200_000)}`;
    const seen = await observe(client, async () => {
      const attempts: Promise<unknown>[] = [
        client.create(path, 'x'),
        client.get(path),
        client.exists(path),
        client.getChildren(path),
        client.set(path, 'x'),
        client.delete(path),
        client.sync(path),
        client.setAcl(path, [{ perms: 31, scheme: 'world', id: 'anyone' }]),
        client.existsWatched(path),
      ];
      const results = await Promise.allSettled(attempts);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RequestTooLargeError);
      }
    });
    expect(seen.error).toBeUndefined();
    expect(seen.ops).toEqual([]);
    expect(seen.states).toEqual([]);
    expect(client.watchCount).toBe(0);
  });

  test('frame limit - maxFrameBytes follows a server configured with a smaller jute.maxbuffer', async ({
    zk,
  }) => {
    const client = await zk.client({ maxFrameBytes: 4096 });
    const seen = await observe(client, () => client.create('/small', Buffer.alloc(4096)));
    expect(seen.error).toBeInstanceOf(RequestTooLargeError);
    expect(seen.ops).toEqual([]);
    await expect(client.create('/small', Buffer.alloc(1000))).resolves.toBe('/small');
  });

  it.each([0, -1, 1.5, 2 ** 31])('frame limit - maxFrameBytes %s is refused', (value) => {
    expect(() => new ZkClient('127.0.0.1:2181', { maxFrameBytes: value })).toThrow(/maxFrameBytes/);
  });
});

describe('frame limit - a server that drops the connection for a request', () => {
  // A server whose jute.maxbuffer is below the client's limit: the client's check passes and
  // the server drops the connection for the request, exactly as for an unchecked oversized one.
  let server: ZooKeeperServer;
  beforeAll(async () => {
    server = await ZooKeeperServer.start({ jvmFlags: ['-Djute.maxbuffer=65536'] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('frame limit - a request the server keeps dropping the connection for is given up after three drops, typed', async () => {
    const client = new ZkClient(server.connectString, { sessionTimeout: 10_000 });
    await client.start();
    try {
      const seen = await observe(client, () => client.create('/big', Buffer.alloc(200_000)));
      expect(seen.error).toBeInstanceOf(RequestRefusedError);
      expect((seen.error as RequestRefusedError).drops).toBe(3);
      // Three drops, three suspensions: not the storm of a dozen or more cycles of the
      // unbounded retry.
      expect(seen.states.filter((s) => s === 'suspended')).toHaveLength(3);
      // The session survived and the client works.
      await client.whenConnected({ timeout: 10_000 });
      await expect(client.create('/small', 'ok')).resolves.toBe('/small');
      await expect(client.exists('/big')).resolves.toBeNull();
    } finally {
      await client.close();
    }
  });

  it.each([0, 1])(
    'frame limit - retry.retries %s sends the request that many times after the first',
    async (retries) => {
      const client = new ZkClient(server.connectString, {
        sessionTimeout: 10_000,
        retry: { retries },
      });
      await client.start();
      try {
        // Each attempt makes the server drop the connection: one suspension per attempt.
        const seen = await observe(client, () => client.create('/big', Buffer.alloc(200_000)));
        expect(seen.error).toBeInstanceOf(ConnectionLossError);
        expect(seen.states.filter((s) => s === 'suspended')).toHaveLength(retries + 1);
      } finally {
        await client.close();
      }
    },
  );
});
