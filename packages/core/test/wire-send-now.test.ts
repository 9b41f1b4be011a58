import { Socket } from 'node:net';
import { describe, expect, vi } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { Line, sendNow } from '@zkit/core';

describe('sendNow', () => {
  test('send now - the requests made so far in the turn leave at once, later ones when the turn ends', async ({
    zk,
  }) => {
    const client = await zk.client({ transport: 'wire' });
    await client.create('/s', 'x');
    const write = vi.spyOn(Socket.prototype, 'write');
    try {
      const first = client.exists('/s');
      const second = client.get('/s');
      expect(write).not.toHaveBeenCalled();
      sendNow(client);
      expect(write).toHaveBeenCalledTimes(1);
      const third = client.getChildren('/s');
      expect(write).toHaveBeenCalledTimes(1);
      const [stat, got, children] = await Promise.all([first, second, third]);
      expect(write).toHaveBeenCalledTimes(2);
      expect(stat?.dataLength).toBe(1);
      expect(got.data.toString()).toBe('x');
      expect(children).toEqual([]);
      write.mockClear();
      sendNow(client); // nothing waiting: nothing written
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
  });

  test("send now - a line's create and listing have left when join returns", async ({ zk }) => {
    const client = await zk.client({ transport: 'wire' });
    const line = new Line(client, '/line', 'lock-');
    await client.create('/line');
    const write = vi.spyOn(Socket.prototype, 'write');
    try {
      const { created, listed } = line.join('me');
      expect(write).toHaveBeenCalledTimes(1);
      const node = await created;
      expect((await listed)?.sorted).toEqual([node?.name]);
      expect(write).toHaveBeenCalledTimes(1);
    } finally {
      write.mockRestore();
    }
  });

  test('send now - does nothing on the native transport', async ({ zk }) => {
    const client = await zk.client({ transport: 'native' });
    const pending = client.exists('/');
    sendNow(client);
    expect(await pending).not.toBeNull();
  });
});
