import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { BadVersionError, ConnectionLossError, UnknownWriteOutcomeError } from '@zkit/core';

describe('set outcome', () => {
  test('set - a conditional retry that fails its version check after a lost reply rejects with UnknownWriteOutcomeError', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
    const other = await zk.client();
    await client.create('/v', 'a');
    // Our set is on the wire, held back; someone else writes; our connection drops, so the
    // reply is lost and the set is retried on a new connection, where version 0 is gone.
    proxy.partition();
    const setting = client.set('/v', 'ours', { version: 0 }).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await other.set('/v', 'theirs');
    proxy.drop();
    proxy.heal();
    const outcome = await setting;
    expect(outcome).toBeInstanceOf(UnknownWriteOutcomeError);
    // Never a plain version mismatch: "read again and write again" could apply it twice.
    expect(outcome).not.toBeInstanceOf(BadVersionError);
    expect(outcome).toMatchObject({ code: 'UNKNOWN_OUTCOME', path: '/v' });
    expect((outcome as Error).cause).toBeInstanceOf(ConnectionLossError);
    expect((await other.get('/v')).data.toString()).toBe('theirs');
  });

  test('set - a version mismatch without a lost reply is a plain BadVersionError', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/w', 'a');
    await client.set('/w', 'b');
    const outcome = await client.set('/w', 'c', { version: 0 }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(BadVersionError);
    expect(outcome).not.toBeInstanceOf(UnknownWriteOutcomeError);
  });
});
