import { ListenerError, NoAuthError, NotEmptyError, Perms } from '@zkit/core';
import { recordListenerErrors, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { LeaderLatch, LeaderSelector, type LeadershipTerm } from '../src/index.js';
import { children, TermLog } from './helpers.js';

const PATH = '/election/listeners';

/** How a failing listener fails: it throws, or it returns a promise that rejects. */
type Failure = 'throws' | 'rejects';
const FAILURES: readonly Failure[] = ['throws', 'rejects'];

/** A listener that fails as `how` says, every time it is called. */
function failing(how: Failure): () => unknown {
  return () => {
    const error = new Error(`listener ${how}`);
    if (how === 'throws') throw error;
    return Promise.reject(error);
  };
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

// Each event either recipe emits, with a listener that fails on it: the election goes on as if
// the listener had returned, the listeners after it still run, and the failure is reported.
describe.each(FAILURES)('a listener that %s', (how) => {
  test(`latch - an 'elected' listener that ${how}: the leader leads and the next one takes over`, async ({
    zk,
  }) => {
    using failures = recordListenerErrors();
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const log = new TermLog();
    const first = new LeaderLatch(a, PATH, { id: 'a' });
    const second = new LeaderLatch(b, PATH, { id: 'b' });
    for (const latch of [first, second]) latch.on('elected', failing(how));
    log.latch('a', first);
    log.latch('b', second);
    await first.start();
    await second.start();
    expect(first.hasLeadership).toBe(true);
    expect(second.hasLeadership).toBe(false);
    await first.close();
    await waitFor(() => second.hasLeadership);
    expect(log.terms.map((t) => t.who)).toEqual(['a', 'b']);
    expect(log.violations).toEqual([]);
    await waitFor(() => failures.of(second, 'elected').length === 1);
    expect(failures.of(first, 'elected')).toHaveLength(1);
    await second.close();
  });

  test(`latch - a 'revoked' listener that ${how}: the term ends, the next one leads, and later listeners hear of it`, async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = new LeaderLatch(a, PATH, { id: 'a' });
    const second = new LeaderLatch(b, PATH, { id: 'b' });
    const errors: unknown[] = [];
    const revoked: LeadershipTerm[] = [];
    first.on('revoked', failing(how));
    first.on('revoked', (term) => revoked.push(term));
    first.on('error', (error) => errors.push(error));
    await first.start();
    await second.start();
    const term = first.term;
    await first.close({ mode: 'notifyLeader' });
    expect(revoked).toEqual([term]);
    await waitFor(() => second.hasLeadership);
    await waitFor(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect((errors[0] as ListenerError).event).toBe('revoked');
    await second.close();
  });

  test(`latch - an 'error' listener that ${how}: the latch keeps trying and leads again`, async ({
    zk,
  }) => {
    using failures = recordListenerErrors();
    const [client, admin] = await Promise.all([zk.client(), zk.client()]);
    await admin.create('/guarded');
    const log = new TermLog();
    const latch = log.latch('a', new LeaderLatch(client, '/guarded/election', { id: 'a' }));
    const errors: unknown[] = [];
    latch.on('error', failing(how));
    latch.on('error', (error) => errors.push(error));
    await latch.start();
    const first = (await log.nth(1)).term;
    // Nobody may create under the parent any more; the election node goes away with ours, so
    // the latch fails to enter again and reports it.
    await admin.setAcl('/guarded', [
      { perms: Perms.read | Perms.delete | Perms.admin, scheme: 'world', id: 'anyone' },
    ]);
    await waitFor(() =>
      admin.deleteRecursive('/guarded/election').then(
        () => true,
        (error: unknown) => {
          if (error instanceof NotEmptyError) return false;
          throw error;
        },
      ),
    );
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(NoAuthError);
    await waitFor(() => failures.of(latch, 'error').length > 0);
    expect(latch.state).toBe('started');
    await admin.setAcl('/guarded', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
    const second = (await log.nth(2)).term;
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    expect(log.violations).toEqual([]);
    await latch.close();
  });

  test(`selector - an 'error' listener that ${how}: a failed term is requeued and the selector leads again`, async ({
    zk,
  }) => {
    using failures = recordListenerErrors();
    const client = await zk.client();
    const selector = new LeaderSelector(client, PATH, { id: 'again', autoRequeue: true });
    const errors: unknown[] = [];
    selector.on('error', failing(how));
    selector.on('error', (error) => errors.push(error));
    let calls = 0;
    const running = selector.run(async (term) => {
      calls++;
      if (calls < 3) throw new Error(`failure ${calls}`);
      await aborted(term.signal);
    });
    await waitFor(() => calls === 3);
    expect(selector.hasLeadership).toBe(true);
    await selector.close();
    await running;
    expect(errors.map((e) => (e as Error).message)).toEqual(['failure 1', 'failure 2']);
    await waitFor(() => failures.of(selector, 'error').length === 2);
    expect(await children(client, PATH)).toEqual([]);
  });
});
