import { BadVersionError, TransactionError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { withCuratorAgent as withAgent } from './helpers.js';

// A Curator transaction and a zkit transaction that both check the same node's version and
// write it: ZooKeeper applies whole transactions in one order, so exactly one of them commits,
// and the other is refused with nothing of it applied.

test('interop - a Curator transaction and a zkit transaction racing on one version check: exactly one commits', async ({
  zk,
}) => {
  const client = await zk.client();
  await client.create('/slot', 'free');
  await client.create('/claims');
  await withAgent(zk.connectString, async (agent) => {
    for (let round = 0; round < 20; round++) {
      const { stat } = await client.get('/slot');
      const curator = agent.send('txn.claim', '/slot', stat.version, `/claims/curator-${round}`);
      const zkit = client
        .transaction()
        .check('/slot', stat.version)
        .create(`/claims/zkit-${round}`, 'zkit')
        .set('/slot', 'zkit', { version: stat.version })
        .commit()
        .then(
          () => ({ committed: true, error: undefined }),
          (error: unknown) => ({ committed: false, error }),
        );
      const [java, node] = await Promise.all([curator, zkit]);
      expect([java['committed'], node.committed].filter(Boolean)).toHaveLength(1);
      const winner = java['committed'] ? 'curator' : 'zkit';
      if (node.committed) {
        expect(java['code']).toBe('BADVERSION');
      } else {
        expect(node.error).toBeInstanceOf(TransactionError);
        expect(node.error).toMatchObject({ index: 0, op: 'check', path: '/slot' });
        expect((node.error as TransactionError).error).toBeInstanceOf(BadVersionError);
      }
      const after = await client.get('/slot');
      expect(after.stat.version).toBe(stat.version + 1);
      expect(after.data.toString()).toBe(winner);
      const claims = (await client.getChildren('/claims')).filter((c) => c.endsWith(`-${round}`));
      expect(claims).toEqual([`${winner}-${round}`]);
    }
  });
});
