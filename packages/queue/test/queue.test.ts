import type { ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError, NoNodeError } from '@zkit/core';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import {
  Queue,
  QueueClosedError,
  QueueFullError,
  bytesSerializer,
  stringSerializer,
} from '../src/index.js';
import type { Message, MalformedItemError } from '../src/index.js';

const PATH = '/jobs/queue';
const LOCKS = '/jobs/queue-locks';

async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return (await client.getChildren(path)).sort();
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Puts `items` in bounded parallel batches (each put is one create). */
async function putAll<T>(queue: Queue<T>, items: readonly T[], batch = 250): Promise<void> {
  for (let i = 0; i < items.length; i += batch) {
    await Promise.all(items.slice(i, i + batch).map((item) => queue.put(item)));
  }
}

describe('Queue', () => {
  test('queue - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new Queue(client, 'jobs')).toThrow(InvalidPathError);
    expect(() => new Queue(client, '/')).toThrow(InvalidArgumentError);
    expect(() => new Queue(undefined as unknown as ZkClient, PATH)).toThrow(InvalidArgumentError);
    expect(() => new Queue(client, PATH, { lockPath: `${PATH}/locks` })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new Queue(client, PATH, { maxItems: 0 })).toThrow(InvalidArgumentError);
    const queue = new Queue(client, PATH);
    expect(() => queue.put(undefined)).toThrow(InvalidArgumentError);
    expect(() => queue.put(1, { priority: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => queue.put(1, { priority: 2 ** 31 })).toThrow(InvalidArgumentError);
    expect(() => queue.putMany([])).toThrow(InvalidArgumentError);
    expect(() => queue.take({ timeout: -1 })).toThrow(InvalidArgumentError);
    expect(() => queue.consume({ concurrency: 0 })).toThrow(InvalidArgumentError);
    const bytes = new Queue(client, PATH, { serializer: bytesSerializer });
    expect(() => bytes.put('text' as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(await client.exists('/jobs')).toBeNull();
  });

  test("queue - items are Curator's persistent-sequential nodes with its item framing", async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new Queue(client, PATH, { serializer: stringSerializer });
    const path = await queue.put('hi');
    expect(path).toMatch(/^\/jobs\/queue\/queue-\d{10}$/);
    const { data, stat } = await client.get(path);
    expect(stat.ephemeralOwner).toBe('0');
    // Curator's framing, then the producer's 16-byte random mark, which readers never reach.
    const framed = '00010001' + '01' + '00000002' + '6869' + '02';
    expect(data.toString('hex')).toMatch(new RegExp(`^${framed}[0-9a-f]{32}$`));
    const multi = await queue.putMany(['a', 'bc']);
    const framedMulti = '00010001' + '01000000016' + '1' + '0100000002' + '6263' + '02';
    const multiData = (await client.get(multi)).data.toString('hex');
    expect(multiData).toMatch(new RegExp(`^${framedMulti}[0-9a-f]{32}$`));
    // Each put has its own mark.
    expect(multiData.slice(-32)).not.toBe(data.toString('hex').slice(-32));
    const high = await queue.put('p', { priority: 5 });
    const low = await queue.put('n', { priority: -1 });
    expect(high).toMatch(/\/queue-100000005\d{10}$/);
    expect(low).toMatch(/\/queue-0FFFFFFFF\d{10}$/);
  });

  test('queue - a single consumer takes items in FIFO order', async ({ zk }) => {
    const client = await zk.client();
    const queue = new Queue<number>(client, PATH);
    for (let i = 0; i < 30; i++) await queue.put(i);
    await queue.putMany([30, 31, 32]);
    const got: number[] = [];
    for (let i = 0; i < 33; i++) got.push(await queue.take({ timeout: 10_000 }));
    expect(got).toEqual([...Array(33).keys()]);
    expect(await queue.size()).toBe(0);
  });

  test('queue - prioritised items come out lowest priority value first, FIFO within one', async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new Queue<string>(client, PATH);
    const puts: [string, number][] = [
      ['c1', 10],
      ['a1', -5],
      ['b1', 0],
      ['c2', 10],
      ['z', 2_000_000_000],
      ['a2', -5],
      ['m', -2_000_000_000],
    ];
    for (const [value, priority] of puts) await queue.put(value, { priority });
    const got: string[] = [];
    for (let i = 0; i < puts.length; i++) got.push(await queue.take({ timeout: 10_000 }));
    expect(got).toEqual(['m', 'a1', 'a2', 'b1', 'c1', 'c2', 'z']);
  });

  test('queue - take waits for an item and times out with a TimeoutError', async ({ zk }) => {
    const client = await zk.client();
    const producer = await zk.client();
    const queue = new Queue<string>(client, PATH);
    await expect(queue.take({ timeout: 200 })).rejects.toMatchObject({ name: 'TimeoutError' });
    const taking = queue.take({ timeout: 10_000 });
    await new Queue<string>(producer, PATH).put('late');
    expect(await taking).toBe('late');
  });

  test('queue - ack removes the item and its claim; nack gives it back', async ({ zk }) => {
    const client = await zk.client();
    const queue = new Queue<string>(client, PATH);
    await queue.put('one');
    await queue.put('two');
    const seen: string[] = [];
    const controller = new AbortController();
    for await (const msg of queue.consume({ signal: controller.signal })) {
      expect(await children(client, LOCKS)).toEqual([msg.path.slice(PATH.length + 1)]);
      seen.push(msg.value);
      if (seen.length === 1) {
        await msg.nack();
        expect(msg.settled).toBe(true);
        expect(await children(client, LOCKS)).toEqual([]);
        continue;
      }
      await msg.ack();
      await msg.nack(); // ignored
      if (seen.length === 3) controller.abort();
    }
    expect(seen).toEqual(['one', 'one', 'two']);
    expect(await children(client, PATH)).toEqual([]);
    expect(await children(client, LOCKS)).toEqual([]);
  });

  test('queue - 4 consumers × 5000 items: all delivered, duplicates only from the expired consumer', async ({
    zk,
  }) => {
    const N = 5000;
    const producer = await zk.client();
    await putAll(new Queue<number>(producer, PATH), [...Array(N).keys()]);
    expect(await new Queue(producer, PATH).size()).toBe(N);

    const counts = new Uint16Array(N);
    let distinct = 0;
    const allSeen = deferred();
    const receive = (i: number): void => {
      const count = (counts[i] ?? 0) + 1;
      counts[i] = count;
      if (count === 1 && ++distinct === N) allSeen.resolve();
    };
    const stop = new AbortController();
    const worker = async (queue: Queue<number>): Promise<void> => {
      for await (const msg of queue.consume({ signal: stop.signal, concurrency: 8 })) {
        receive(msg.value);
        void msg.ack().catch(() => undefined);
      }
    };

    // The consumer that crashes: it starts first, acks 200 items, then holds 8 unacked when its
    // session expires. The other three start once it holds them.
    const victimClient = await zk.client({ sessionTimeout: 4000 });
    const victim = new Queue<number>(victimClient, PATH);
    const held: Message<number>[] = [];
    const acks: Promise<void>[] = [];
    const holding = deferred();
    const victimRun = (async () => {
      let n = 0;
      for await (const msg of victim.consume({ concurrency: 8 })) {
        receive(msg.value);
        if (++n <= 200) acks.push(msg.ack());
        else {
          held.push(msg);
          if (held.length === 8) holding.resolve();
        }
      }
    })();

    await holding.promise;
    const clients = await Promise.all([1, 2, 3].map(() => zk.client({ sessionTimeout: 4000 })));
    const workers = clients.map((c) => worker(new Queue<number>(c, PATH)));
    const heldItems = held.map((m) => m.value).sort((a, b) => a - b);
    await Promise.all(acks);
    await expireSession(victimClient);
    await waitFor(() => held.every((m) => m.signal.aborted), { message: 'held claims to go' });
    await victim.close();
    await victimRun;

    await allSeen.promise;
    await waitFor(async () => (await children(producer, PATH)).length === 0, {
      timeout: 20_000,
      message: 'the queue to empty',
    });
    stop.abort();
    await Promise.all(workers);
    expect(await children(producer, LOCKS)).toEqual([]);

    const missing = [...counts.keys()].filter((i) => counts[i] === 0);
    const duplicated = [...counts.keys()].filter((i) => (counts[i] ?? 0) > 1);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual(heldItems);
    expect(duplicated.every((i) => counts[i] === 2)).toBe(true);
  });

  test('queue - a put through a dropped connection is not lost', async ({ zk }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 6000 });
    const queue = new Queue<number>(client, PATH);
    await queue.put(-1);
    const puts: Promise<string>[] = [];
    for (let i = 0; i < 100; i++) {
      puts.push(queue.put(i));
      if (i === 50) proxy.drop();
    }
    await Promise.all(puts);
    proxy.heal();
    const reader = new Queue<number>(await zk.client(), PATH);
    const items = await reader.drain();
    // None lost; a lost reply may make a retried create add an item twice (documented).
    expect(new Set(items).size).toBe(101);
    expect(items.length).toBeGreaterThanOrEqual(101);
  });

  test('queue - a bounded queue refuses puts beyond maxItems', async ({ zk }) => {
    const client = await zk.client();
    const queue = new Queue<number>(client, PATH, { maxItems: 2 });
    await queue.put(1);
    await queue.put(2);
    const full = await queue.put(3).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(QueueFullError);
    expect(full).toMatchObject({ code: 'QUEUE_FULL', maxItems: 2, path: PATH });
    expect(await queue.take()).toBe(1);
    await queue.put(3);
    expect(await queue.size()).toBe(2);
  });

  test('queue - malformed items are reported and skipped, consumption goes on', async ({ zk }) => {
    const client = await zk.client();
    const reported: MalformedItemError[] = [];
    const queue = new Queue<string>(client, PATH, { onMalformed: (e) => reported.push(e) });
    await queue.put('good-1');
    const badFraming = await client.create(`${PATH}/queue-`, Buffer.from('not framed'), {
      mode: 'persistentSequential',
    });
    const badJson = await client.create(
      `${PATH}/queue-`,
      Buffer.from('00010001' + '01' + '00000001' + '7b' + '02', 'hex'),
      { mode: 'persistentSequential' },
    );
    await queue.put('good-2');
    const seen: string[] = [];
    const controller = new AbortController();
    for await (const msg of queue.consume({ signal: controller.signal })) {
      seen.push(msg.value);
      await msg.ack();
      if (seen.length === 2) controller.abort();
    }
    expect(seen).toEqual(['good-1', 'good-2']);
    expect(reported.map((e) => [e.code, e.path])).toEqual([
      ['MALFORMED_ITEM', badFraming],
      ['MALFORMED_ITEM', badJson],
    ]);
    expect(reported[0]?.data.toString()).toBe('not framed');
    expect(reported[1]?.cause).toBeInstanceOf(SyntaxError);
    // Left in place, nothing claimed.
    expect(await children(client, PATH)).toHaveLength(2);
    expect(await children(client, LOCKS)).toEqual([]);
    expect(await queue.take({ timeout: 300 }).catch((e: unknown) => e)).toMatchObject({
      name: 'TimeoutError',
    });
  });

  test('queue - close ends consumers, nacks in-flight messages and rejects waiting takes', async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new Queue<string>(client, PATH);
    await queue.put('x');
    const iterator = queue.consume()[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    const msg = first.value as Message<string>;
    const taker = new Queue<string>(client, '/other');
    const waiting = taker.take().catch((e: unknown) => e);
    await queue.close();
    await taker.close();
    expect(msg.settled).toBe(true);
    expect(await waiting).toBeInstanceOf(QueueClosedError);
    expect((await iterator.next()).done).toBe(true);
    expect(await children(client, LOCKS)).toEqual([]);
    expect(await children(client, PATH)).toHaveLength(1);
    expect(() => queue.put('y')).toThrow(QueueClosedError);
    expect(await new Queue<string>(client, PATH).peek()).toBe('x');
  });

  test('queue - peek, size and drain', async ({ zk }) => {
    const client = await zk.client();
    const queue = new Queue<number>(client, PATH);
    expect(await queue.peek()).toBeUndefined();
    expect(await queue.size()).toBe(0);
    expect(await queue.drain()).toEqual([]);
    await queue.put(1);
    await queue.putMany([2, 3]);
    await queue.put(4);
    expect(await queue.peek()).toBe(1);
    expect(await queue.size()).toBe(3);
    expect(await queue.drain()).toEqual([1, 2, 3, 4]);
    expect(await queue.size()).toBe(0);
  });
});
