import diagnostics from 'node:diagnostics_channel';
import { InvalidArgumentError } from '@zkit/core';
import type { OpMessage } from '@zkit/core';
import { expireSession } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { IdQueue } from '../src/index.js';

const PATH = '/jobs/by-id';

describe('IdQueue', () => {
  test("id queue - items are Curator's `queue-|<id>|<seq>` nodes, taken in put order whatever the id", async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new IdQueue<string>(client, PATH);
    const first = await queue.put('one', { id: 'zeta' });
    await queue.put('two', { id: 'alpha' });
    await queue.putMany(['three', 'four'], { id: 'a/b|c' });
    expect(first).toBe(`${PATH}/queue-|zeta|0000000000`);
    expect((await client.getChildren(PATH)).sort()).toEqual([
      'queue-|a_b_c|0000000002',
      'queue-|alpha|0000000001',
      'queue-|zeta|0000000000',
    ]);
    expect(await queue.drain()).toEqual(['one', 'two', 'three', 'four']);
  });

  test('id queue - remove withdraws every item with the id and says how many', async ({ zk }) => {
    const client = await zk.client();
    const queue = new IdQueue<string>(client, PATH);
    expect(await queue.remove('nothing yet')).toBe(0);
    await queue.put('a1', { id: 'a' });
    await queue.put('b1', { id: 'b' });
    await queue.put('a2', { id: 'a' });
    await queue.put('slash', { id: 'x/y' });
    expect(await queue.remove('a')).toBe(2);
    expect(await queue.remove('a')).toBe(0);
    // Ids are stored as Curator stores them: '/' and '|' become '_'.
    expect(await queue.remove('x|y')).toBe(1);
    expect(await queue.drain()).toEqual(['b1']);
  });

  test('id queue - remove waits through a connection drop and works on after a session expiry', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString });
    const queue = new IdQueue<string>(client, PATH);
    await queue.put('a1', { id: 'a' });
    await queue.put('a2', { id: 'a' });
    await queue.put('b1', { id: 'b' });
    proxy.partition();
    const removing = queue.remove('a');
    proxy.drop();
    proxy.heal();
    expect(await removing).toBe(2);
    await expireSession(client);
    expect(await queue.remove('b')).toBe(1);
    expect(await queue.size()).toBe(0);
  });

  test('id queue - a missing or empty id is refused before any request', async ({ zk }) => {
    const client = await zk.client();
    const queue = new IdQueue<string>(client, PATH);
    const seen: string[] = [];
    const onOp = (message: unknown) => {
      const op = message as OpMessage;
      if (op.client === client) seen.push(op.op);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      for (const options of [undefined, {}, { id: '' }, { id: 5 }]) {
        expect(() => queue.put('x', options as { id: string })).toThrow(InvalidArgumentError);
      }
      expect(() => queue.putMany([], { id: 'a' })).toThrow(InvalidArgumentError);
      await expect(queue.remove('')).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(queue.remove(undefined as unknown as string)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    expect(seen).toEqual([]);
  });
});
