import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { Socket } from 'node:net';
import { describe, expect, vi } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { waitFor } from '@zkit/testing';
import { RequestTooLargeError, NoAuthError, NodeExistsError, ZkError } from '../src/errors.js';
import type { NodeEventKind, ProtocolTransport } from '../src/transport.js';
import { CreateFlags, Perms } from '../src/transport.js';
import { openWireTransport } from '../src/wire/wire-transport.js';

/** A wire transport on `connectString`, and what it reported. */
function open(connectString: string, sessionTimeout = 10_000) {
  const log = { connected: 0, disconnected: 0, closed: [] as number[], events: [] as string[] };
  const transport = openWireTransport(
    { connectString, sessionTimeout },
    {
      connected: () => log.connected++,
      disconnected: () => log.disconnected++,
      closed: (code) => log.closed.push(code),
      node: (kind: NodeEventKind, path: string) => log.events.push(`${kind} ${path}`),
    },
  );
  return { transport, log, [Symbol.asyncDispose]: async () => transport.close() };
}

async function connected(t: { transport: ProtocolTransport }) {
  await waitFor(() => t.transport.connected, { message: 'the transport to connect' });
}

const digest = (user: string, password: string) =>
  `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;

describe('wire transport', () => {
  test('wire transport - a create carries its ACL and returns the stat (no world-open moment)', async ({
    zk,
  }) => {
    await using t = open(zk.connectString);
    await connected(t);
    await t.transport.addAuth('digest', 'alice:secret');
    const acl = [
      { perms: Perms.all, scheme: 'digest', id: digest('alice', 'secret') },
      { perms: Perms.read, scheme: 'world', id: 'anyone' },
    ];
    const created = await t.transport.createWithStat(
      '/private',
      Buffer.from('x'),
      CreateFlags.persistent,
      undefined,
      acl,
    );
    expect(created.path).toBe('/private');
    expect(created.stat.dataLength).toBe(1);
    expect((await t.transport.exists('/private', false))?.czxid).toBe(created.stat.czxid);
    expect((await t.transport.getAcl('/private')).acl).toEqual(acl);
    await using other = open(zk.connectString);
    await connected(other);
    await expect(other.transport.set('/private', Buffer.from('y'), -1)).rejects.toBeInstanceOf(
      NoAuthError,
    );
  });

  test('wire transport - a transaction applies all or nothing, with one result per operation', async ({
    zk,
  }) => {
    await using t = open(zk.connectString);
    await connected(t);
    const ok = await t.transport.multi([
      { op: 'create', path: '/a', data: Buffer.from('1'), flags: CreateFlags.persistent },
      {
        op: 'create',
        path: '/a/s-',
        data: Buffer.alloc(0),
        flags: CreateFlags.persistentSequential,
      },
      { op: 'set', path: '/a', data: Buffer.from('2'), version: 0 },
      { op: 'check', path: '/a', version: 1 },
    ]);
    expect(ok.map((r) => r.op)).toEqual(['create', 'create', 'set', 'check']);
    expect(ok[1]).toMatchObject({ op: 'create', path: '/a/s-0000000000' });
    expect(ok[2]).toMatchObject({ op: 'set', stat: { version: 1 } });

    const failed = await t.transport.multi([
      { op: 'create', path: '/b', data: Buffer.alloc(0), flags: CreateFlags.persistent },
      { op: 'create', path: '/a', data: Buffer.alloc(0), flags: CreateFlags.persistent },
      { op: 'delete', path: '/a/s-0000000000', version: -1 },
    ]);
    expect(failed.map((r) => r.op)).toEqual(['error', 'error', 'error']);
    expect(failed[0]).toEqual({ op: 'error', error: null });
    expect(failed[1]?.op === 'error' && failed[1].error).toBeInstanceOf(NodeExistsError);
    expect(failed[2]).toEqual({ op: 'error', error: null });
    expect(await t.transport.exists('/b', false)).toBeNull();
    expect(await t.transport.exists('/a/s-0000000000', false)).not.toBeNull();
  });

  test('wire transport - getEphemerals, getAllChildrenNumber and whoAmI answer for the session', async ({
    zk,
  }) => {
    await using t = open(zk.connectString);
    await connected(t);
    await t.transport.create('/e', Buffer.alloc(0), CreateFlags.persistent, undefined);
    await t.transport.create('/e/1', Buffer.alloc(0), CreateFlags.ephemeral, undefined);
    await t.transport.create('/e/2', Buffer.alloc(0), CreateFlags.ephemeral, undefined);
    expect((await t.transport.getEphemerals('/e')).sort()).toEqual(['/e/1', '/e/2']);
    expect(await t.transport.getAllChildrenNumber('/e')).toBe(2);
    await t.transport.addAuth('digest', 'bob:pw');
    expect(await t.transport.whoAmI()).toContainEqual({ scheme: 'digest', user: 'bob' });
  });

  test('wire transport - a request over the frame limit fails before sending; the connection stays', async ({
    zk,
  }) => {
    await using t = open(zk.connectString);
    await connected(t);
    await t.transport.create('/big', Buffer.alloc(0), CreateFlags.persistent, undefined);
    const error = await t.transport.set('/big', Buffer.alloc(1024 * 1024), -1).catch((e) => e);
    expect(error).toBeInstanceOf(RequestTooLargeError);
    expect(t.transport.connected).toBe(true);
    expect(t.log.disconnected).toBe(0);
    expect((await t.transport.set('/big', Buffer.from('small'), -1)).dataLength).toBe(5);
  });

  test('wire transport - requests made in one turn leave in one socket write, and a big one among them arrives whole', async ({
    zk,
  }) => {
    await using t = open(zk.connectString);
    await connected(t);
    await t.transport.create('/w', Buffer.from('x'), CreateFlags.persistent, undefined);
    const write = vi.spyOn(Socket.prototype, 'write');
    const big = Buffer.alloc(64 * 1024, 1);
    try {
      const [stat, listing, got] = await Promise.all([
        t.transport.exists('/w', false),
        t.transport.getChildren('/w', false),
        t.transport.get('/w', false),
      ]);
      expect(stat?.dataLength).toBe(1);
      expect(listing.children).toEqual([]);
      expect(got.data.toString()).toBe('x');
      expect(write).toHaveBeenCalledTimes(1);

      write.mockClear();
      const [, set, after] = await Promise.all([
        t.transport.exists('/w', false),
        t.transport.set('/w', big, -1),
        t.transport.get('/w', false),
      ]);
      expect(set.dataLength).toBe(big.length);
      expect(after.data.equals(big)).toBe(true);
    } finally {
      write.mockRestore();
    }
  });

  test('wire transport - watches set before a drop fire for changes made while disconnected', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const writer = await zk.client();
    await using t = open(proxy.connectString, 6000);
    await connected(t);
    await writer.create('/data', 'v0');
    await writer.create('/kids');
    expect(await t.transport.get('/data', true)).toMatchObject({ data: Buffer.from('v0') });
    await t.transport.getChildren('/kids', true);
    expect(await t.transport.exists('/later', true)).toBeNull();
    await t.transport.addWatch('/tree', 'persistentRecursive');
    expect(t.transport.watchCount).toBe(4);

    proxy.partition();
    // Only the read timeout can see a black hole: TCP says nothing.
    await waitFor(() => t.log.disconnected === 1, { message: 'the silence to be noticed' });
    await writer.set('/data', 'v1');
    await writer.create('/kids/k');
    await writer.create('/later');
    proxy.heal();
    await waitFor(() => t.log.connected === 2, { message: 'the transport to reconnect' });
    await waitFor(() => t.log.events.length >= 3, { message: 'the missed changes to be reported' });
    expect([...t.log.events].sort()).toEqual(['changed /data', 'child /kids', 'created /later']);
    expect(t.transport.watchCount).toBe(1);
    // The persistent watch came back too: later changes below it are reported.
    await writer.create('/tree', 'x', { parents: 'persistent' });
    await writer.create('/tree/a');
    await waitFor(() => t.log.events.includes('created /tree/a'));
    await t.transport.removeWatches('/tree', 'any');
    expect(t.transport.watchCount).toBe(0);
    await expect(t.transport.checkWatches('/tree', 'any')).rejects.toBeInstanceOf(ZkError);
  });

  test('wire transport - 10 000 watch registrations and firings stay within 8 MB and leave no watch behind', async ({
    zk,
  }) => {
    const writer = await zk.client();
    await writer.create('/w');
    await using t = open(zk.connectString);
    await connected(t);
    const N = 10_000;
    const round = async (r: number) => {
      const before = t.log.events.length;
      const stats = await Promise.all(
        Array.from({ length: N }, (_, i) => t.transport.exists(`/w/${r}-${i}`, true)),
      );
      expect(stats.every((s) => s === null)).toBe(true);
      expect(t.transport.watchCount).toBe(N);
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          writer.create(`/w/${r}-${i}`, '', { mode: 'ephemeral' }),
        ),
      );
      await waitFor(() => t.log.events.length - before === N, { timeout: 30_000 });
      expect(t.transport.watchCount).toBe(0);
      t.log.events.length = 0;
    };
    await round(0); // warm-up
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let r = 1; r <= 3; r++) await round(r);
    globalThis.gc?.();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    // Stated bound: 30 000 watches set and fired grow the heap by less than 8 MB.
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });

  test('wire transport - closing ends the session on the server before it resolves', async ({
    zk,
  }) => {
    const watcher = await zk.client();
    const t = open(zk.connectString);
    await connected(t);
    await t.transport.create('/mine', Buffer.alloc(0), CreateFlags.ephemeral, undefined);
    await t.transport.close();
    expect(await watcher.exists('/mine')).toBeNull();
    expect(t.log.closed).toEqual([]);
  });

  test('wire transport - closing between two connections of a live session still ends it', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const watcher = await zk.client();
    const t = open(proxy.connectString);
    await connected(t);
    await t.transport.create('/eph', Buffer.alloc(0), CreateFlags.ephemeral, undefined);
    // Cut the connection and hold the next one back, so that close() finds no connection.
    proxy.partition();
    proxy.drop();
    await waitFor(() => t.log.disconnected === 1, { message: 'the drop to be seen' });
    const closing = t.transport.close();
    proxy.heal();
    await closing;
    expect(await watcher.exists('/eph')).toBeNull();
    expect(t.log.closed).toEqual([]);
  });

  test('wire transport - close() settles even when nothing else keeps the process alive', async ({
    zk,
  }) => {
    // A script whose only pending work is the close: an unsettled promise would end it with
    // exit code 13 before 'closed' is printed.
    const script = `
      import { ZkClient } from '@zkit/core';
      const client = new ZkClient(process.argv[1], { transport: 'wire' });
      await client.start();
      await client.create('/bye', '', { mode: 'ephemeral' });
      await client.close();
      console.log('closed');
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, zk.connectString],
      { cwd: import.meta.dirname },
    );
    expect(stdout.trim()).toBe('closed');
    const watcher = await zk.client();
    expect(await watcher.exists('/bye')).toBeNull();
  });

  test('wire transport - a name that does not resolve is skipped, and a name is tried on each of its addresses', async ({
    zk,
  }) => {
    const port = zk.serverConnectString.split(':').pop() as string;
    // `localhost` may resolve to ::1 first, where the server does not listen: 127.0.0.1 still
    // gets its turn.
    const client = await zk.client({
      transport: 'wire',
      connectString: `no-such-host.invalid:${port},localhost:${port}${zk.chroot}`,
    });
    await client.create('/via-name', 'x');
    const direct = await zk.client();
    expect((await direct.get('/via-name')).data.toString()).toBe('x');
  });
});
