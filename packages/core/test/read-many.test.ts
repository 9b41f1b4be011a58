import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import diagnostics from 'node:diagnostics_channel';
import {
  ClientClosedError,
  InvalidArgumentError,
  InvalidPathError,
  ZkClient,
  getMany,
  type OpMessage,
} from '@zkit/core';

describe('getMany', () => {
  test('getMany - data and stats in the order asked, undefined where a node is missing', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/m', 'root');
    await client.create('/m/a', 'A');
    await client.create('/m/b', 'B');
    const read = await getMany(client, ['/m/b', '/m/missing', '/m', '/m/a']);
    expect(read.map((r) => r?.data.toString())).toEqual(['B', undefined, 'root', 'A']);
    expect(read[2]?.stat.numChildren).toBe(2);
    expect(await getMany(client, [])).toEqual([]);
  });

  test('getMany - many nodes in few requests, under a namespace too', async ({ zk }) => {
    const client = await zk.client({ namespace: '/ns' });
    const creates: Promise<string>[] = [];
    for (let i = 0; i < 300; i++)
      creates.push(client.create(`/n${i}`, String(i), { parents: 'persistent' }));
    await Promise.all(creates);
    const ops: string[] = [];
    const listener = (message: unknown) => {
      const m = message as OpMessage;
      if (m.client === client) ops.push(m.op);
    };
    diagnostics.subscribe('zkit:op', listener);
    try {
      const paths = Array.from({ length: 300 }, (_, i) => `/n${i}`);
      const read = await getMany(client, paths);
      expect(read.map((r) => r?.data.toString())).toEqual(paths.map((_, i) => String(i)));
    } finally {
      diagnostics.unsubscribe('zkit:op', listener);
    }
    // On the wire transport: one multi-read per 128 nodes; otherwise one read per node.
    const expected = process.env['ZKIT_TRANSPORT'] === 'native' ? 300 : 3;
    expect(ops).toHaveLength(expected);
  });

  test('getMany - bad input is a typed error before any request', async ({ zk }) => {
    const client = await zk.client();
    await expect(getMany(client, ['no-slash'])).rejects.toBeInstanceOf(InvalidPathError);
    await expect(getMany(client, '/a' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    const closed = new ZkClient(zk.connectString);
    await closed.close();
    await expect(getMany(closed, ['/a'])).rejects.toBeInstanceOf(ClientClosedError);
  });
});
