import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import {
  InvalidArgumentError,
  NoNodeError,
  ZkClient,
  combineSignals,
  raceSignal,
  validateTimeout,
  watchRecursive,
  WatchConnection,
  type OpMessage,
} from '@zkit/core';

/** Requests `client` makes while `fn` runs (and up to the probe that follows it). */
async function requestsDuring(client: ZkClient, fn: () => unknown): Promise<string[]> {
  const seen: string[] = [];
  const onOp = (message: unknown) => {
    const m = message as OpMessage;
    if (m.client === client) seen.push(`${m.op} ${m.path}`);
  };
  diagnostics.subscribe('zkit:op', onOp);
  try {
    try {
      await fn();
    } catch {
      // the caller asserts the error
    }
    await client.exists('/probe');
  } finally {
    diagnostics.unsubscribe('zkit:op', onOp);
  }
  return seen.filter((s) => s !== 'exists /probe');
}

describe('input', () => {
  it.each([
    ['a fraction', 1.5],
    ['2^31 ms (a timer would fire after 1 ms)', 2 ** 31],
    ['2^32 ms', 2 ** 32],
    ['negative', -1],
    ['NaN', Number.NaN],
  ])('input - a timeout of %s is an InvalidArgumentError', (_, timeout) => {
    expect(() => validateTimeout(timeout)).toThrow(InvalidArgumentError);
  });

  it('input - the largest timer a timeout may ask for is accepted', () => {
    expect(() => validateTimeout(2 ** 31 - 1)).not.toThrow();
    expect(() => validateTimeout(0)).not.toThrow();
  });

  it.each([
    ['a non-integer retry count', { retry: { retries: 1.5 } }],
    ['a non-boolean randomize', { retry: { randomize: 'yes' as never } }],
    ['an empty default ACL', { defaultAcl: [] }],
    ['a default ACL with perms 32', { defaultAcl: [{ perms: 32, scheme: 'world', id: 'x' }] }],
    ['a session id that is not hex', { session: { id: 'zz', password: 'p' } }],
    ['a session without a password', { session: { id: '1a' } as never }],
    ['a sessionTimeout of 2^31 ms', { sessionTimeout: 2 ** 31 }],
    ['a connectTimeout of 2^31 ms', { connectTimeout: 2 ** 31 }],
  ])('input - the constructor rejects %s', (_, options) => {
    expect(() => new ZkClient('127.0.0.1:2181', options)).toThrow(InvalidArgumentError);
  });

  test('input - a create mode must be one of the modes, not any property name', async ({ zk }) => {
    const client = await zk.client();
    for (const mode of ['toString', 'constructor', '__proto__']) {
      const sent = await requestsDuring(client, async () => {
        await expect(client.create('/n', 'x', { mode: mode as never })).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
      });
      expect(sent).toEqual([]);
    }
    await expect(client.exists('/n')).resolves.toBeNull();
  });

  test('input - a TTL past 2^31 − 1 ms is refused before the server sees it', async ({ zk }) => {
    const client = await zk.client();
    const sent = await requestsDuring(client, async () => {
      await expect(
        client.create('/t', 'x', { mode: 'persistentWithTtl', ttl: 2 ** 31 }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    });
    expect(sent).toEqual([]);
    await expect(
      client.create('/t', 'x', { mode: 'persistentWithTtl', ttl: 2 ** 31 - 1 }),
    ).resolves.toBe('/t');
  });

  test('input - set without data is refused and leaves the node as it was', async ({ zk }) => {
    const client = await zk.client();
    await client.create('/kept', 'value');
    const sent = await requestsDuring(client, async () => {
      await expect(client.set('/kept', undefined as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    });
    expect(sent).toEqual([]);
    expect((await client.get('/kept')).data.toString()).toBe('value');
    await client.set('/kept', '');
    expect((await client.get('/kept')).data.length).toBe(0);
  });

  test('input - watchOnce with an unknown event type fails at once instead of waiting forever', async ({
    zk,
  }) => {
    const client = await zk.client();
    const sent = await requestsDuring(client, async () => {
      await expect(client.watchOnce('/w', 'touched' as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    });
    expect(sent).toEqual([]);
    expect(client.watchCount).toBe(0);
  });

  test('input - whenConnected checks its timeout also when already connected', async ({ zk }) => {
    const client = await zk.client();
    expect(() => client.whenConnected({ timeout: -1 })).toThrow(InvalidArgumentError);
    await expect(client.whenConnected({ timeout: 1000 })).resolves.toBeUndefined();
  });

  it('input - a watch connection refuses an unknown mode, bad auth or timeout, and stays idle', () => {
    const connection = new WatchConnection('127.0.0.1:2181');
    for (const mode of ['oneShot', 'toString', 1]) {
      expect(() => connection.addWatch('/n', mode as never)).toThrow(InvalidArgumentError);
    }
    expect(connection.state).toBe('idle');
    expect(connection.watches).toEqual([]);
    expect(
      () => new WatchConnection('127.0.0.1:2181', { auth: [{ scheme: '', credentials: 'x' }] }),
    ).toThrow(InvalidArgumentError);
    expect(() => new WatchConnection('127.0.0.1:2181', { sessionTimeout: 2 ** 31 })).toThrow(
      InvalidArgumentError,
    );
  });

  test('input - watchRecursive refuses a missing client or listener before opening anything', async ({
    zk,
  }) => {
    const client = await zk.client();
    expect(() => watchRecursive(client, '/n', 'log' as never)).toThrow(InvalidArgumentError);
    expect(() => watchRecursive(undefined as never, '/n', () => undefined)).toThrow(
      InvalidArgumentError,
    );
    // A valid watch afterwards works: the refusals opened nothing that could get in its way.
    const events: string[] = [];
    const watch = watchRecursive(client, '/r', (event) => events.push(event.type));
    await watch.ready({ timeout: 10_000 });
    await client.create('/r', 'x');
    await waitFor(() => events.includes('created'));
    await watch.close();
  });

  test('input - a signal that is not an AbortSignal is refused before any request', async ({
    zk,
  }) => {
    const client = await zk.client();
    const bogus = { aborted: false } as unknown as AbortSignal;
    const sent = await requestsDuring(client, async () => {
      await expect(client.create('/n', 'x', { signal: bogus })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(client.get('/', { signal: bogus })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(
        client.watchData('/', { signal: bogus })[Symbol.asyncIterator]().next(),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(() => client.whenConnected({ signal: bogus })).toThrow(InvalidArgumentError);
    });
    expect(sent).toEqual([]);
    await expect(client.exists('/n')).resolves.toBeNull();
    await expect(raceSignal(Promise.resolve(1), bogus)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(() => combineSignals({ signal: 'x' as never })).toThrow(InvalidArgumentError);
  });

  test('input - maxDataBytes reports the limit in force', async ({ zk }) => {
    const client = await zk.client({ maxDataBytes: 10 });
    expect(client.maxDataBytes).toBe(10);
    expect((await zk.client()).maxDataBytes).toBe(1024 * 1024 - 1024);
    await expect(client.get('/missing')).rejects.toBeInstanceOf(NoNodeError);
  });
});
