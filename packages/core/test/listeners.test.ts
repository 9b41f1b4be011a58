import { spawn } from 'node:child_process';
import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { expireSession, recordListenerErrors, waitFor } from '@zkit/testing';
import {
  Emitter,
  ListenerError,
  WatchConnection,
  ZkClient,
  watchRecursive,
  type ConnectionState,
  type RecursiveWatchEvent,
  type WatchEvent,
} from '@zkit/core';

/** How a failing listener fails: it throws, or it returns a promise that rejects. */
type Failure = 'throws' | 'rejects';
const FAILURES: readonly Failure[] = ['throws', 'rejects'];

/** A listener that fails (as `how` says) each time `when` holds for its arguments. */
function failing<A extends unknown[]>(
  how: Failure,
  when: (...args: A) => boolean = () => true,
): (...args: A) => unknown {
  return (...args: A) => {
    if (!when(...args)) return undefined;
    const error = new Error(`listener ${how}`);
    if (how === 'throws') throw error;
    return Promise.reject(error);
  };
}

interface TestEvents {
  tick: [n: number];
  error: [error: unknown];
}

class Ticker extends Emitter<TestEvents> {}

describe('listeners', () => {
  test('emitter - every listener is called whatever the others do; once listeners are removed', async () => {
    using failures = recordListenerErrors();
    const ticker = new Ticker();
    const calls: string[] = [];
    const context = { name: 'ctx' };
    ticker.on('tick', failing('throws'));
    ticker.on('tick', (n) => calls.push(`on ${n}`));
    ticker.on('tick', failing('rejects'));
    ticker.once('tick', (n) => calls.push(`once ${n}`));
    ticker.on(
      'tick',
      function (this: { name: string }, n: number) {
        calls.push(`${this.name} ${n}`);
      },
      context,
    );
    expect(ticker.emit('tick', 1)).toBe(true);
    expect(ticker.emit('tick', 2)).toBe(true);
    expect(calls).toEqual(['on 1', 'once 1', 'ctx 1', 'on 2', 'ctx 2']);
    expect(ticker.listenerCount('tick')).toBe(4);
    expect(ticker.emit('error', new Error('nobody listens'))).toBe(false);
    // The thrown ones are reported at once, the rejections a moment later.
    expect(failures.of(ticker, 'tick')).toHaveLength(2);
    await waitFor(() => failures.of(ticker, 'tick').length === 4);
  });

  test('emitter - a listener added while emitting is called from the next emit on', () => {
    const ticker = new Ticker();
    const calls: number[] = [];
    ticker.on('tick', () => {
      ticker.on('tick', (n) => calls.push(n));
    });
    ticker.emit('tick', 1);
    expect(calls).toEqual([]);
    ticker.emit('tick', 2);
    expect(calls).toEqual([2]);
  });

  for (const how of FAILURES) {
    test(`emitter - a listener that ${how} is reported on zkit:listener:error with the emitter, the event and its error`, async () => {
      using failures = recordListenerErrors();
      const ticker = new Ticker();
      ticker.on('tick', failing(how));
      expect(ticker.emit('tick', 1)).toBe(true);
      const [message] = await waitFor(
        () => failures.of(ticker).length === 1 && failures.of(ticker),
      );
      expect(message?.event).toBe('tick');
      expect(message?.error).toBeInstanceOf(Error);
      expect((message?.error as Error).message).toBe(`listener ${how}`);
    });

    test(`emitter - a listener that ${how} reaches 'error' listeners as a ListenerError; a failing 'error' listener only the channel`, async () => {
      using failures = recordListenerErrors();
      const ticker = new Ticker();
      const errors: unknown[] = [];
      ticker.on('error', (error) => errors.push(error));
      ticker.on('error', failing(how));
      ticker.on('tick', failing(how));
      ticker.emit('tick', 1);
      await waitFor(() => failures.of(ticker, 'error').length === 1);
      expect(errors).toHaveLength(1);
      const error = errors[0] as ListenerError;
      expect(error).toBeInstanceOf(ListenerError);
      expect(error.code).toBe('LISTENER_FAILED');
      expect(error.emitter).toBe(ticker);
      expect(error.event).toBe('tick');
      expect((error.cause as Error).message).toBe(`listener ${how}`);
      expect(error.message).toContain(`Ticker: a 'tick' listener failed`);
      // The failing 'error' listener was reported once and looped nowhere.
      expect(failures.of(ticker, 'tick')).toHaveLength(1);
      expect(failures.of(ticker, 'error')).toHaveLength(1);
      expect(errors).toHaveLength(1);
    });

    test(`emitter - a listener that ${how} with nobody listening becomes a process warning`, async () => {
      const ticker = new Ticker();
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => {
        if (warning instanceof ListenerError && warning.emitter === ticker) warnings.push(warning);
      };
      process.on('warning', onWarning);
      try {
        ticker.on('tick', failing(how));
        ticker.emit('tick', 1);
        await waitFor(() => warnings.length === 1);
        expect(warnings[0]?.name).toBe('ListenerError');
      } finally {
        process.off('warning', onWarning);
      }
    });
  }

  test(`emitter - with errorEvent: false, failures stay off the 'error' event`, () => {
    using failures = recordListenerErrors();
    const quiet = new (class Quiet extends Emitter<TestEvents> {
      constructor() {
        super({ errorEvent: false });
      }
    })();
    const errors: unknown[] = [];
    quiet.on('error', (error) => errors.push(error));
    quiet.on('tick', failing('throws'));
    quiet.emit('tick', 1);
    expect(errors).toEqual([]);
    expect(failures.of(quiet, 'tick')).toHaveLength(1);
  });

  // ---------------------------------------------------------------------------------------------
  // The client: a failing listener of any of its events changes nothing it does.

  for (const how of FAILURES) {
    test(`client - a 'state' listener that ${how} on connected: start() resolves and requests work`, async ({
      zk,
    }) => {
      using failures = recordListenerErrors();
      await using client = new ZkClient(zk.connectString, { sessionTimeout: 4000 });
      client.on(
        'state',
        failing(how, (now) => now === 'connected'),
      );
      client.on('session', failing(how));
      await client.start();
      expect(client.state).toBe('connected');
      await expect(client.create('/after-start')).resolves.toBe('/after-start');
      await waitFor(() => failures.of(client).length === 2);
      expect(failures.of(client, 'state')).toHaveLength(1);
      expect(failures.of(client, 'session')).toHaveLength(1);
    });

    test(`client - a 'state' listener that ${how} on suspended and reconnected: the session signal aborts and the client reconnects`, async ({
      zk,
    }) => {
      using failures = recordListenerErrors();
      const proxy = await zk.proxy();
      const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
      const session = client.sessionId;
      const signal = client.sessionSignal();
      const seen: ConnectionState[] = [];
      const errors: unknown[] = [];
      client.on(
        'state',
        failing(how, (now) => now !== 'closed'),
      );
      client.on('state', (now) => seen.push(now));
      client.on('error', (error) => errors.push(error));
      proxy.drop();
      await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
      expect(seen).toEqual(['suspended', 'reconnected']);
      expect(signal.aborted).toBe(true);
      expect(client.sessionSignal().aborted).toBe(false);
      expect(client.sessionId).toBe(session);
      await expect(client.create('/after-drop')).resolves.toBe('/after-drop');
      await waitFor(() => errors.length === 2);
      for (const error of errors) expect(error).toBeInstanceOf(ListenerError);
      expect(failures.of(client, 'state')).toHaveLength(2);
    });

    test(`client - 'state' and 'session' listeners that ${how} on lost: the client opens a new session and reaches reconnected`, async ({
      zk,
    }) => {
      using failures = recordListenerErrors();
      const client = await zk.client({ sessionTimeout: 2000 });
      const first = client.sessionId;
      client.on(
        'state',
        failing(how, (now) => now !== 'closed'),
      );
      client.on('session', failing(how));
      await expireSession(client);
      await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
      expect(client.sessionId).not.toBe(first);
      await client.create('/mine', '', { mode: 'ephemeral' });
      const stat = await client.exists('/mine');
      expect(stat?.ephemeralOwner).toBe(client.sessionId);
      await waitFor(() => failures.of(client, 'session').length === 1);
      expect(failures.of(client, 'state').length).toBeGreaterThanOrEqual(2);
    });

    test(`client - a 'state' listener that ${how} on closed: close() resolves, the session ends and the process exits`, async ({
      zk,
    }) => {
      const entry = new URL('../dist/index.js', import.meta.url).href;
      const script = `
        import diagnostics from 'node:diagnostics_channel';
        const { ZkClient } = await import(${JSON.stringify(entry)});
        let reported = 0;
        diagnostics.subscribe('zkit:listener:error', () => reported++);
        const c = new ZkClient(${JSON.stringify(zk.connectString)}, { sessionTimeout: 30000 });
        await c.start();
        await c.create('/closed-check', '', { mode: 'ephemeral' });
        c.on('state', (now) => {
          if (now !== 'closed') return;
          const error = new Error('listener ${how}');
          if (${JSON.stringify(how)} === 'throws') throw error;
          return Promise.reject(error);
        });
        await c.close();
        await new Promise((resolve) => setImmediate(resolve));
        console.log(JSON.stringify({ state: c.state, reported }));
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      // A process kept alive by an open handle is ended after the bound, and fails the test.
      const bound = setTimeout(() => child.kill(), 20_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      clearTimeout(bound);
      expect(code).toBe(0);
      expect(JSON.parse(out.trim())).toEqual({ state: 'closed', reported: 1 });
      // The session was closed, not left to time out (30 s): its ephemeral node is gone at once.
      const observer = await zk.client();
      expect(await observer.exists('/closed-check')).toBeNull();
    });

    // -------------------------------------------------------------------------------------------
    // The watch connection and recursive watches.

    test(`watch connection - an 'event' or 'state' listener that ${how} neither drops the connection nor hides events from the next listener`, async ({
      zk,
    }) => {
      using failures = recordListenerErrors();
      const writer = await zk.client();
      await using conn = new WatchConnection(zk.connectString, { sessionTimeout: 10_000 });
      const seen: string[] = [];
      conn.on('state', failing(how));
      conn.on('event', failing(how));
      conn.on('event', (e: WatchEvent) => seen.push(`${e.type} ${e.path}`));
      conn.on('interrupted', () => seen.push('interrupted'));
      await conn.addWatch('/svc');
      await writer.create('/svc');
      await writer.create('/svc/a');
      await waitFor(() => seen.includes('created /svc/a'));
      expect(seen).toEqual(['created /svc', 'created /svc/a']);
      expect(conn.state).toBe('connected');
      await waitFor(() => failures.of(conn, 'event').length === 2);
      expect(failures.of(conn, 'state').length).toBeGreaterThanOrEqual(1);
    });

    test(`recursive watch - a listener that ${how} is reported and other watches still get the event`, async ({
      zk,
    }) => {
      using failures = recordListenerErrors();
      const client = await zk.client();
      const seen: string[] = [];
      await using broken = watchRecursive(client, '/svc', failing(how));
      await using working = watchRecursive(client, '/svc', (e: RecursiveWatchEvent) => {
        if ('path' in e) seen.push(`${e.type} ${e.path}`);
      });
      await Promise.all([broken.ready(), working.ready()]);
      await client.create('/svc');
      await client.create('/svc/a');
      await waitFor(() => seen.includes('created /svc/a'));
      expect(seen).toEqual(['created /svc', 'created /svc/a']);
      await waitFor(() => failures.of(broken).length === 2);
      expect(failures.of(broken).map((m) => m.event)).toEqual(['created', 'created']);
      expect(new ListenerError(broken, 'created', 'x').message).toContain('RecursiveWatch:');
    });
  }
});
