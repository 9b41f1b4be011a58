import { GroupMember } from '@zkit/group';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { withCuratorAgent as withAgent } from './helpers.js';

// zkit's GroupMember and Curator's GroupMember on one membership path: each sees the other's
// member and payload, its payload changes and its departure.

test('interop - Curator and zkit group members see each other, their payloads and departures', async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    const path = '/groups/workers';
    const curatorView = async () =>
      (await agent.send('group.members', path, 'java')).members as Record<string, string>;
    const zkitView = (member: GroupMember) =>
      Object.fromEntries([...member.members()].map(([id, p]) => [id, p.toString('utf8')]));

    await agent.send('group.start', path, 'java', 'payload-java');
    const member = new GroupMember(client, path, 'node', 'payload-node');
    const events: string[] = [];
    member.on('joined', (id, p) => events.push(`joined ${id} ${p.toString()}`));
    member.on('updated', (id, p) => events.push(`updated ${id} ${p.toString()}`));
    member.on('left', (id) => events.push(`left ${id}`));
    await member.start({ timeout: 20_000 });

    await waitFor(() => zkitView(member)['java'] === 'payload-java', {
      message: 'zkit to see java',
    });
    await waitFor(
      async () => {
        expect(await curatorView()).toEqual({ java: 'payload-java', node: 'payload-node' });
        return true;
      },
      { timeout: 20_000, message: 'Curator to see both members' },
    );
    // The layout is Curator's: the member's node is membershipPath/<id>, ephemeral, data = payload.
    const { data, stat } = await client.get(`${path}/node`);
    expect(data.toString()).toBe('payload-node');
    expect(stat.ephemeralOwner).toBe(client.sessionId);

    await agent.send('group.set', path, 'java', 'payload-java-2');
    await waitFor(() => zkitView(member)['java'] === 'payload-java-2', {
      message: "zkit to see java's new payload",
    });
    await member.setPayload('payload-node-2');
    await waitFor(async () => (await curatorView())['node'] === 'payload-node-2', {
      timeout: 20_000,
      message: "Curator to see node's new payload",
    });

    await agent.send('group.close', path, 'java');
    await waitFor(() => !member.members().has('java'), { message: 'zkit to see java leave' });
    expect(events.sort()).toEqual([
      'joined java payload-java',
      'joined node payload-node',
      'left java',
      'updated java payload-java-2',
      'updated node payload-node-2',
    ]);

    await agent.send('group.start', path, 'java', 'back');
    await waitFor(() => zkitView(member)['java'] === 'back', { message: 'zkit to see java again' });
    await member.close();
    await waitFor(async () => !('node' in (await curatorView())), {
      timeout: 20_000,
      message: 'Curator to see node leave',
    });
    expect(await client.exists(`${path}/node`)).toBeNull();
  });
});
