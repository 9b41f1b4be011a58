import { test } from '@zkit/testing/vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CuratorUnavailableError, startCuratorAgent } from './curator-agent.js';
import { childrenOrNone as children } from './helpers.js';

/** Curator's protected lock-node name: `_c_<uuid>-lock-<10-digit sequence>`. */
const CURATOR_LOCK_NODE =
  /^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-lock-\d{10}$/;

test('interop - the Curator agent acquires and releases an InterProcessMutex', async ({ zk }) => {
  const client = await zk.client();
  const agent = await startCuratorAgent(zk.connectString);
  try {
    const ack = await agent.send('mutex.acquire', '/locks/smoke', 10_000);

    const held = await children(client, '/locks/smoke');
    expect(held).toHaveLength(1);
    expect(held[0]).toMatch(CURATOR_LOCK_NODE);
    expect(ack['node']).toBe(`/locks/smoke/${held[0]}`);
    const { participants } = await agent.send('participants', '/locks/smoke');
    expect(participants).toEqual([`/locks/smoke/${held[0]}`]);

    // Curator deletes its node before release() returns.
    await agent.send('mutex.release', '/locks/smoke');
    expect(await children(client, '/locks/smoke')).toEqual([]);
  } finally {
    await agent.close();
  }
});

it('interop - without the Curator jars the agent refuses to start and names the apt packages', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'zkit-no-jars-'));
  try {
    const start = startCuratorAgent('127.0.0.1:1', { jarDir: empty });
    await expect(start).rejects.toThrow(CuratorUnavailableError);
    await expect(start).rejects.toThrow(
      /apt-get install .*libcurator-recipes-java.*libcurator-discovery-java/,
    );
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});
