import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { waitFor } from '@zkit/testing';
import { ConnectionLossError, NoNodeError, UnknownOutcomeError } from '@zkit/core';

describe('delete outcome', () => {
  test('delete - a retry that finds the node gone after a lost reply rejects with UnknownOutcomeError', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
    const other = await zk.client();
    for (const version of [-1, 0]) {
      const path = `/d-${version === -1 ? 'any' : version}`;
      await client.create(path, 'x');
      // Our delete is on the wire, held back; someone else removes the node; our connection
      // drops, so the reply is lost and the delete is retried on a new connection.
      proxy.partition();
      const deleting = client.delete(path, { version }).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      await other.delete(path);
      proxy.drop();
      proxy.heal();
      const outcome = await deleting;
      // Never a success: this call cannot know that it removed the node.
      expect(outcome).not.toBe('resolved');
      expect(outcome).toBeInstanceOf(UnknownOutcomeError);
      // Still a NoNodeError: the node is gone, which is all "make it gone" callers ask.
      expect(outcome).toBeInstanceOf(NoNodeError);
      expect(outcome).toMatchObject({ code: 'UNKNOWN_OUTCOME', rc: -101, path });
      expect((outcome as Error).cause).toBeInstanceOf(ConnectionLossError);
      expect(await other.exists(path)).toBeNull();
    }
  });

  test('delete - a delete made while disconnected never left the client: a missing node is a plain NoNodeError', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    // Attempts fail after 200 ms without a connection, well within the 2 s session.
    const client = await zk.client({
      connectTimeout: 200,
      connectString: proxy.connectString,
      sessionTimeout: 2000,
    });
    const other = await zk.client();
    await client.create('/n', 'x');
    proxy.partition();
    proxy.drop();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    const issued = Date.now();
    const deleting = client.delete('/n').then(
      () => 'resolved',
      (error: unknown) => error,
    );
    // Let attempts fail for want of a connection before the node goes.
    await waitFor(() => Date.now() - issued > 500);
    await other.delete('/n');
    proxy.heal();
    const outcome = await deleting;
    expect(outcome).toBeInstanceOf(NoNodeError);
    expect(outcome).not.toBeInstanceOf(UnknownOutcomeError);
  });

  test('delete - deleteGuaranteed counts a node gone by unknown hands as done', async ({ zk }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
    const other = await zk.client();
    await client.create('/g', 'x');
    proxy.partition();
    const guaranteed = client.deleteGuaranteed('/g');
    await other.delete('/g');
    proxy.drop();
    proxy.heal();
    await expect(guaranteed).resolves.toBeUndefined();
    expect(client.pendingDeletes).toBe(0);
  });
});
