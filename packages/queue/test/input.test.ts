import diagnostics from 'node:diagnostics_channel';
import { DataTooLargeError, type OpMessage } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { Queue, bytesSerializer } from '../src/index.js';

test('input - an oversized item fails before any request, also with maxItems', async ({ zk }) => {
  const client = await zk.client({ maxDataBytes: 1000 });
  const seen: string[] = [];
  const onOp = (message: unknown) => {
    const m = message as OpMessage;
    if (m.client === client) seen.push(`${m.op} ${m.path}`);
  };
  const bounded = new Queue(client, '/q', { serializer: bytesSerializer, maxItems: 5 });
  const unbounded = new Queue(client, '/q', { serializer: bytesSerializer });
  diagnostics.subscribe('zkit:op', onOp);
  try {
    for (const queue of [bounded, unbounded]) {
      // Thrown synchronously, like every other bad argument of put.
      expect(() => queue.put(Buffer.alloc(1000))).toThrow(DataTooLargeError);
      expect(() => queue.putMany([Buffer.alloc(500), Buffer.alloc(500)])).toThrow(
        DataTooLargeError,
      );
    }
    await client.exists('/probe');
  } finally {
    diagnostics.unsubscribe('zkit:op', onOp);
  }
  expect(seen).toEqual(['exists /probe']);
  // Framing adds 10 bytes to one item, the producer's mark 16: 974 bytes of item fit in 1000.
  expect(() => bounded.put(Buffer.alloc(975))).toThrow(DataTooLargeError);
  await bounded.put(Buffer.alloc(974));
  expect(await bounded.size()).toBe(1);
});
