import diagnostics from 'node:diagnostics_channel';
import { ZkError, ZkTimeoutError, type OpMessage, type ZkClient } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Barrier, DoubleBarrier } from '../src/index.js';
import { children, rejection } from './helpers.js';

const PATH = '/gates/deploy';

/** Counts the requests `client` makes while `run` runs. */
async function requests(client: ZkClient, run: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const onOp = (m: unknown) => {
    if ((m as OpMessage).client === client) n++;
  };
  diagnostics.subscribe('zkit:op', onOp);
  try {
    await run();
  } finally {
    diagnostics.unsubscribe('zkit:op', onOp);
  }
  return n;
}

function expectTimeout(error: unknown, message: string): void {
  expect(error).toBeInstanceOf(ZkTimeoutError);
  expect(error).toBeInstanceOf(ZkError);
  expect((error as Error).name).toBe('TimeoutError');
  expect((error as Error).message).toBe(message);
}

describe('barrier timeouts', () => {
  test('barrier - wait({ timeout: 0 }) passes a lowered barrier and fails at once on a raised one', async ({
    zk,
  }) => {
    const client = await zk.client();
    const gate = new Barrier(client, PATH);
    expect(await requests(client, () => gate.wait({ timeout: 0 }))).toBe(1);
    await gate.raise();
    let error: unknown;
    const sent = await requests(client, async () => {
      error = await rejection(gate.wait({ timeout: 0 }));
    });
    expectTimeout(error, `Barrier ${PATH}: still up within 0 ms`);
    expect(sent).toBe(1);
    expectTimeout(
      await rejection(gate.wait({ timeout: 100 })),
      `Barrier ${PATH}: still up within 100 ms`,
    );
    await gate.lower();
  });

  test('double barrier - enter({ timeout: 0 }) passes a full round and fails at once otherwise', async ({
    zk,
  }) => {
    const client = await zk.client();
    const alone = new DoubleBarrier(client, PATH, { members: 1 });
    await alone.enter({ timeout: 0 });
    await alone.leave({ timeout: 0 });
    const waiting = new DoubleBarrier(client, PATH, { members: 2 });
    expectTimeout(
      await rejection(waiting.enter({ timeout: 0 })),
      `DoubleBarrier ${PATH}: not entered within 0 ms`,
    );
    expect(waiting.state).toBe('idle');
    expect(await children(client, PATH)).toEqual([]);
    expectTimeout(
      await rejection(waiting.enter({ timeout: 100 })),
      `DoubleBarrier ${PATH}: not entered within 100 ms`,
    );
  });

  test('double barrier - leave({ timeout: 0 }) fails at once while another member stays', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    const second = new DoubleBarrier(b, PATH, { members: 2 });
    await Promise.all([first.enter({ timeout: 10_000 }), second.enter({ timeout: 10_000 })]);
    expectTimeout(
      await rejection(first.leave({ timeout: 0 })),
      `DoubleBarrier ${PATH}: not left within 0 ms`,
    );
    expect(await a.exists(first.nodePath)).toBeNull();
    await second.leave({ timeout: 0 });
    expect(await children(b, PATH)).toEqual([]);
  });
});
