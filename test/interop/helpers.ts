import { NoNodeError, type ZkClient } from '@zkit/core';
import { startCuratorAgent, type CuratorAgent } from './curator-agent.js';

/** Children of `path`; none once the server has reaped an emptied container parent. */
export async function childrenOrNone(client: ZkClient, path: string): Promise<string[]> {
  try {
    return await client.getChildren(path);
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
}

/** Runs `body` with a Curator agent on `connectString`, closing the agent afterwards. */
export async function withCuratorAgent(
  connectString: string,
  body: (agent: CuratorAgent) => Promise<void>,
): Promise<void> {
  const agent = await startCuratorAgent(connectString);
  try {
    await body(agent);
  } finally {
    await agent.close();
  }
}
