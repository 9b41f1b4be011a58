import { InvalidArgumentError, InvalidPathError, defaultNodeData } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { Queue, inspectQueue } from '../src/index.js';

const PATH = '/queues/jobs';

test('inspectQueue - bad input is rejected before any request', async ({ zk }) => {
  const client = await zk.client();
  expect(() => inspectQueue(client, 'jobs')).toThrow(InvalidPathError);
  expect(() => inspectQueue(client, PATH, { lockPath: 'x' })).toThrow(InvalidPathError);
  expect(() => inspectQueue(client, PATH, { peek: -1 })).toThrow(InvalidArgumentError);
});

test('inspectQueue - missing, empty, then depth, oldest, claims, peeked and malformed items', async ({
  zk,
}) => {
  const [producer, consumer, reader] = await Promise.all([zk.client(), zk.client(), zk.client()]);
  expect(await inspectQueue(reader, PATH)).toBeNull();
  await reader.ensurePath(PATH);
  expect(await inspectQueue(reader, PATH, { peek: 3 })).toEqual({
    path: PATH,
    lockPath: `${PATH}-locks`,
    depth: 0,
    oldest: null,
    claimed: [],
    items: [],
  });

  const queue = new Queue<{ job: number }>(producer, PATH);
  const first = await queue.put({ job: 1 });
  await producer.create(`${PATH}/queue-`, 'not framed', { mode: 'persistentSequential' });
  await queue.put({ job: 3 });

  const controller = new AbortController();
  for await (const msg of new Queue<{ job: number }>(consumer, PATH).consume({
    signal: controller.signal,
  })) {
    const seen = await inspectQueue<{ job: number }>(reader, PATH, { peek: 2 });
    const { stat } = await reader.get(first);
    expect(seen?.depth).toBe(3);
    expect(seen?.oldest).toEqual({ name: first.slice(PATH.length + 1), ctime: stat.ctime });
    expect(seen?.claimed).toEqual([
      {
        name: first.slice(PATH.length + 1),
        sessionId: consumer.sessionId,
        ctime: expect.any(Number),
      },
    ]);
    expect(seen?.items.map((i) => [i.values, i.malformed])).toEqual([
      [[{ job: 1 }], undefined],
      [undefined, 'unknown version 0x6e6f7420'],
    ]);
    // The claim node is no payload: it carries the local address, as Curator's does.
    const claim = await reader.get(`${PATH}-locks/${first.slice(PATH.length + 1)}`);
    expect(claim.data.toString()).toBe(defaultNodeData());
    expect(msg.value).toEqual({ job: 1 });
    await msg.ack();
    controller.abort();
  }
  const after = await inspectQueue(reader, PATH);
  expect(after?.depth).toBe(2);
  expect(after?.claimed).toEqual([]);
  expect(after?.items).toEqual([]);
});
