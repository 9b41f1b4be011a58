import { NoAuthError, Perms } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { LeaderSelector } from '../src/index.js';

const OWNER_ONLY = [{ perms: Perms.all, scheme: 'auth', id: '' }];

test('selector - a run on an election path that refuses the client rejects with NoAuthError instead of retrying unseen', async ({
  zk,
}) => {
  const owner = await zk.client({ auth: [{ scheme: 'digest', credentials: 'ops:pw' }] });
  await owner.create('/locked', '', { acl: OWNER_ONLY });
  try {
    const stranger = await zk.client();
    const selector = new LeaderSelector(stranger, '/locked/election', { autoRequeue: true });
    const errors: unknown[] = [];
    selector.on('error', (error) => errors.push(error));
    let led = false;
    // The timeout only bounds a hang: the NoAuthError must come first.
    const outcome = await selector
      .run(
        async () => {
          led = true;
        },
        { timeout: 10_000 },
      )
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    expect(outcome).toBeInstanceOf(NoAuthError);
    expect(led).toBe(false);
    expect(errors).toEqual([]);
    expect(selector.hasLeadership).toBe(false);
    expect(await owner.getChildren('/locked')).toEqual([]);
    await selector.close();

    // The owner's own selector on the same path leads as usual.
    const own = new LeaderSelector(owner, '/locked/election');
    let term: bigint | undefined;
    await own.run(async (t) => {
      term = t.fencingToken;
    });
    expect(term).toBeTypeOf('bigint');
  } finally {
    await owner.deleteRecursive('/locked');
  }
});
