import diagnostics from 'node:diagnostics_channel';
import type { OpMessage } from '@zkit/core';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Queue } from '../src/index.js';
import type { Message } from '../src/index.js';

const PATH = '/jobs/queue';
const LOCKS = '/jobs/queue-locks';

async function next<T>(iterator: AsyncIterator<Message<T>>): Promise<Message<T>> {
  const step = await iterator.next();
  if (step.done === true) throw new Error('the consumer ended');
  return step.value;
}

describe('Queue.consume claims', () => {
  test('queue - two consumers on one client never hold the same claim, even when a claim is retried', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString });
    const other = await zk.client();
    const producer = new Queue<string>(other, PATH);
    await producer.put('n');
    await producer.put('m');
    const x = new Queue<string>(client, PATH).consume()[Symbol.asyncIterator]();
    const y = new Queue<string>(client, PATH).consume()[Symbol.asyncIterator]();
    const xMessage = await next(x);
    expect(xMessage.value).toBe('n');

    // Y lists both items and goes for 'n' first. The link goes dark right after that listing,
    // so Y's claim create is held back; then the connection drops, and the create is retried on
    // a new connection, where it finds a claim of this very session.
    let armed = true;
    let onListed: () => void = () => undefined;
    const listed = new Promise<void>((resolve) => (onListed = resolve));
    const cutAfterListing = (message: unknown) => {
      const op = message as OpMessage;
      if (armed && op.client === client && op.op === 'getChildren' && op.path === PATH) {
        armed = false;
        proxy.partition();
        onListed();
      }
    };
    diagnostics.subscribe('zkit:op', cutAfterListing);
    let yMessage: Message<string>;
    try {
      const yNext = next(y);
      await listed;
      // Y's next request goes out in the same turn as the listing's reply is handled; once
      // another request has made a round trip, it is on the wire.
      await other.exists(PATH);
      proxy.drop();
      proxy.heal();
      yMessage = await yNext;
    } finally {
      diagnostics.unsubscribe('zkit:op', cutAfterListing);
      proxy.heal();
    }
    expect(armed).toBe(false);
    // 'n' is X's while X works on it: Y must not be handed it too.
    expect(yMessage.value).toBe('m');
    await xMessage.ack();
    await yMessage.ack();
    await Promise.all([x.return?.(), y.return?.()]);
    expect(await producer.size()).toBe(0);
  });

  test("queue - a message settled after its session was lost leaves the new claimant's claim alone", async ({
    zk,
  }) => {
    const aClient = await zk.client({ sessionTimeout: 2000 });
    const bClient = await zk.client();
    const a = new Queue<string>(aClient, PATH).consume()[Symbol.asyncIterator]();
    const b = new Queue<string>(bClient, PATH).consume()[Symbol.asyncIterator]();
    await new Queue<string>(bClient, PATH).put('job');
    const stale = await next(a);
    const name = stale.path.slice(stale.path.lastIndexOf('/') + 1);
    await expireSession(aClient);
    await waitFor(() => stale.signal.aborted && aClient.isConnected, {
      message: 'a new session for A',
    });
    // A's claim went with its session: B claims the item.
    const fresh = await next(b);
    expect(fresh.value).toBe('job');
    await stale.nack();
    const claim = await bClient.exists(`${LOCKS}/${name}`);
    expect(claim?.ephemeralOwner).toBe(bClient.sessionId);
    await fresh.ack();
    await Promise.all([a.return?.(), b.return?.()]);
  });

  test('queue - a consumer that finds every item claimed waits for a change instead of listing again and again', async ({
    zk,
  }) => {
    const holder = await zk.client();
    const waiter = await zk.client();
    const producer = new Queue<string>(holder, PATH);
    for (const v of ['a', 'b', 'c']) await producer.put(v);
    // The holder claims all three and keeps them.
    const holding = new Queue<string>(holder, PATH).consume({ concurrency: 3 });
    const held = holding[Symbol.asyncIterator]();
    const mine = [await next(held), await next(held), await next(held)];
    expect(mine.map((m) => m.value).sort()).toEqual(['a', 'b', 'c']);

    const requests: string[] = [];
    const onOp = (message: unknown) => {
      const m = message as OpMessage;
      if (m.client === waiter) requests.push(`${m.op} ${m.path}`);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      const waiting = new Queue<string>(waiter, PATH).consume()[Symbol.asyncIterator]();
      const got = next(waiting);
      // A consumer that keeps polling sends hundreds of requests; one that waits lists the
      // claims once and sets its watches.
      await waitFor(() => requests.includes(`getChildren ${LOCKS}`) || requests.length > 300, {
        timeout: 20_000,
      });
      expect(requests.length).toBeLessThan(30);
      const before = requests.length;
      // A nack releases a claim: the waiting consumer is woken and takes that item.
      const released = mine.find((m) => m.value === 'b');
      await released?.nack();
      const message = await got;
      expect(message.value).toBe('b');
      expect(requests.length - before).toBeLessThan(30);
      await message.ack();
      await waiting.return?.();
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    for (const m of mine) if (m.value !== 'b') await m.ack();
    await held.return?.();
  });
});

describe('Queue.consume acks', () => {
  test('queue - an ack deletes the item and its claim in one request on the wire transport', async ({
    zk,
  }) => {
    const client = await zk.client({ transport: 'wire' });
    const queue = new Queue<string>(client, PATH, { lockPath: LOCKS });
    await queue.put('a');
    const consumer = queue.consume()[Symbol.asyncIterator]();
    const message = await next(consumer);
    const ops: string[] = [];
    const onOp = (m: unknown) => {
      if ((m as OpMessage).client === client) ops.push((m as OpMessage).op);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      await message.ack();
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    expect(ops).toEqual(['multi']);
    expect(await client.getChildren(PATH)).toEqual([]);
    expect(await client.getChildren(LOCKS)).toEqual([]);
    await consumer.return?.();
  });
});
