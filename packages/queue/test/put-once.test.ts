import { ConnectionLossError, NoNodeError } from '@zkit/core';
import type { ZkClient } from '@zkit/core';
import { expireSession } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { PutOutcomeUnknownError, Queue } from '../src/index.js';

const PATH = '/jobs/queue';

async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return (await client.getChildren(path)).sort();
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

/** The test server allows sessions of at most 2 s (20 ticks of 100 ms). */
const SHORT_SESSION = { sessionTimeout: 2000 };

describe('Queue.put after a lost reply', () => {
  test('queue - a put whose create landed but whose reply was lost queues the item once', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const aClient = await zk.client({ connectString: proxy.connectString, ...SHORT_SESSION });
    const bClient = await zk.client();
    const a = new Queue<string>(aClient, PATH);
    const b = new Queue<string>(bClient, PATH);
    await a.put('first');
    // The link goes dark with the create on it. A's client gives the connection up by its own
    // timer; the link then comes back and hands the held create to the server, while its reply
    // goes to the connection A has already closed.
    const healOnSuspend = (now: string) => {
      if (now === 'suspended') proxy.heal();
    };
    aClient.on('state', healOnSuspend);
    proxy.partition();
    let path: string;
    try {
      path = await a.put('second');
    } finally {
      aClient.off('state', healOnSuspend);
      proxy.heal();
    }
    const nodes = await children(bClient, PATH);
    expect(nodes).toHaveLength(2);
    expect(`${PATH}/${nodes[1]}`).toBe(path);
    expect(await b.drain()).toEqual(['first', 'second']);
  });

  test('queue - a put whose create never reached the server sends it again', async ({ zk }) => {
    const proxy = await zk.proxy();
    const aClient = await zk.client({ connectString: proxy.connectString, ...SHORT_SESSION });
    const bClient = await zk.client();
    const a = new Queue<string>(aClient, PATH);
    await a.put('first');
    proxy.partition();
    const putting = a.put('second');
    // Wait until the create is held back: its connection drops, and the held bytes with it.
    await bClient.exists(PATH);
    proxy.drop();
    proxy.heal();
    const path = await putting;
    const nodes = await children(bClient, PATH);
    expect(nodes).toHaveLength(2);
    expect(`${PATH}/${nodes[1]}`).toBe(path);
    expect(await new Queue<string>(bClient, PATH).drain()).toEqual(['first', 'second']);
  });

  test('queue - a put whose session expired with the create held back queues the item once', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const aClient = await zk.client({ connectString: proxy.connectString, ...SHORT_SESSION });
    const bClient = await zk.client();
    const a = new Queue<string>(aClient, PATH);
    await a.put('first');
    proxy.partition();
    const putting = a.put('second');
    // The session ends on the server while the create is held; the link then comes back.
    await expireSession(aClient, { connectString: zk.connectString });
    proxy.heal();
    const path = await putting;
    const nodes = await children(bClient, PATH);
    expect(nodes).toHaveLength(2);
    expect(`${PATH}/${nodes[1]}`).toBe(path);
    expect(await new Queue<string>(bClient, PATH).drain()).toEqual(['first', 'second']);
  });

  test('queue - a put that cannot tell whether a consumer took its item rejects, typed, and queues nothing more', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const aClient = await zk.client({ connectString: proxy.connectString, ...SHORT_SESSION });
    const bClient = await zk.client();
    const a = new Queue<string>(aClient, PATH);
    const b = new Queue<string>(bClient, PATH);
    await a.put('first');
    proxy.partition();
    const putting = a.put('second').then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // Another consumer removes an item while the create is in doubt: the create might have
    // landed and been taken, as far as A can see.
    expect(await b.take({ timeout: 10_000 })).toBe('first');
    proxy.drop();
    proxy.heal();
    const outcome = await putting;
    expect('error' in outcome).toBe(true);
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(PutOutcomeUnknownError);
    expect(error).toMatchObject({ code: 'PUT_OUTCOME_UNKNOWN', path: PATH });
    expect((error as Error).cause).toBeInstanceOf(ConnectionLossError);
    // The held create was dropped with its connection, and never sent again.
    expect(await children(bClient, PATH)).toEqual([]);
  });
});
