import diagnostics from 'node:diagnostics_channel';
import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import {
  InvalidArgumentError,
  InvalidPathError,
  Line,
  ZkClient,
  checkLineArgs,
  lineKey,
  sortLine,
  type OpMessage,
} from '@zkit/core';

describe('line', () => {
  test('line - children sort by the text after the last marker, others by their whole name', () => {
    expect(lineKey('_c_0f5b-lock-0000000007', 'lock-')).toBe('0000000007');
    expect(lineKey('other', 'lock-')).toBe('other');
    const sorted = sortLine(
      ['_c_b-lock-0000000002', 'zz', '_c_a-lock-0000000001', '_c_c-lock-lock-0000000000'],
      'lock-',
    );
    expect(sorted).toEqual([
      '_c_c-lock-lock-0000000000',
      '_c_a-lock-0000000001',
      '_c_b-lock-0000000002',
      'zz',
    ]);
    expect(sortLine(['b1', 'a2'], (c) => c.slice(1))).toEqual(['b1', 'a2']);
  });

  test('line - bad arguments throw typed errors before any request', () => {
    expect(() => checkLineArgs({}, '/x', 'a lock')).toThrow(InvalidArgumentError);
    expect(() => checkLineArgs(null, '/x', 'a lock')).toThrow(InvalidArgumentError);
    const client = new ZkClient('127.0.0.1:1');
    expect(() => checkLineArgs(client, '/', 'a lock')).toThrow(InvalidPathError);
    expect(() => checkLineArgs(client, 'x', 'a lock')).toThrow(InvalidPathError);
    expect(checkLineArgs(client, '/a/b', 'a lock')).toBe('/a/b');
    expect(() => new Line(client, 'bad', 'lock-')).toThrow(InvalidPathError);
  });

  test('line - a join sends the listing with the create, and the listing shows our node', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/line');
    const other = await client.createProtected('/line', 'lock-', 'first');
    const line = new Line(client, '/line', 'lock-');
    const spans = new Map<string, { start: number; end: number }>();
    const onOp = (message: unknown) => {
      const m = message as OpMessage;
      if (m.client !== client) return;
      const end = performance.now();
      spans.set(m.op, { start: end - m.durationMs, end });
    };
    diagnostics.subscribe('zkit:op', onOp);
    let joined;
    try {
      joined = line.join('second');
      await joined.listed;
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    const node = await joined.created;
    const listing = await joined.listed;
    expect(node?.session).toBe(client.sessionId);
    expect(node?.sessionChanged).toBe(false);
    expect(node?.name.startsWith(node.prefix)).toBe(true);
    expect(node?.prefix).toMatch(/^_c_[0-9a-f-]{36}-$/);
    expect(listing?.sorted).toEqual([other.slice('/line/'.length), node?.name]);
    // The listing was answered after the create landed: the parent's pzxid is that create's.
    expect(listing?.stat.pzxid).toBe((await client.exists(node!.path))?.czxid);
    // Sent before the create's reply arrived.
    expect(spans.get('getChildren')!.start).toBeLessThan(spans.get('create')!.end);
  });

  test('line - a join under a missing parent lists again once the create made it', async ({
    zk,
  }) => {
    const client = await zk.client();
    const line = new Line(client, '/missing/line', 'lock-');
    const { created, listed } = line.join(undefined);
    const node = await created;
    const listing = await listed;
    expect(listing?.sorted).toEqual([node?.name]);
    expect(await line.list()).toMatchObject({ sorted: [node?.name] });
  });

  test('line - a join whose connection drops still finds its one node in the listing', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    // The wire transport whatever the suite's default: the native binding can abort the process
    // (SIGABRT) after a few dozen rapid drops, with or without a line involved.
    await using client = new ZkClient(proxy.connectString, {
      sessionTimeout: 4000,
      transport: 'wire',
    });
    await client.start();
    await client.create('/dropped');
    const line = new Line(client, '/dropped', 'lock-');
    // Cut the link at different moments around the two requests.
    for (let i = 0; i < 10; i++) {
      const { created, listed } = line.join(`attempt-${i}`);
      const dropped = new Promise<void>((resolve) =>
        setTimeout(() => {
          proxy.drop();
          resolve();
        }, i % 5),
      );
      const node = await created;
      expect(node).toBeDefined();
      const listing = await listed;
      expect(listing?.sorted).toContain(node?.name);
      expect(line.strays(listing!.sorted, node!)).toEqual([]);
      await dropped;
      await client.deleteGuaranteed(node!.path, { ephemeral: true });
    }
  });

  test('line - members reads every node with its data and owner, in line order', async ({ zk }) => {
    const client = await zk.client();
    const line = new Line(client, '/members', 'lock-');
    expect(await line.members()).toEqual([]);
    expect(await line.list()).toBeUndefined();
    const a = await line.join('a').created;
    const b = await line.join('b').created;
    const members = await line.members();
    expect(members.map((m) => [m.name, m.data.toString(), m.owner])).toEqual([
      [a?.name, 'a', client.sessionId],
      [b?.name, 'b', client.sessionId],
    ]);
  });
});
