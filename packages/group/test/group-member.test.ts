import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { expireSession, waitFor } from '@zkit/testing';
import {
  DataTooLargeError,
  defaultNodeData,
  InvalidArgumentError,
  InvalidPathError,
  type ZkClient,
} from '@zkit/core';
import { GroupClosedError, GroupMember } from '../src/index.js';

function payloads(member: GroupMember): Record<string, string> {
  return Object.fromEntries([...member.members()].map(([id, p]) => [id, p.toString()]));
}

describe('group member', () => {
  test('group member - bad input is refused before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new GroupMember(client, 'g', 'a')).toThrow(InvalidPathError);
    expect(() => new GroupMember(client, '/g', 'a/b')).toThrow(InvalidPathError);
    expect(() => new GroupMember(client, '/g', '')).toThrow(InvalidPathError);
    expect(() => new GroupMember(client, '/g', 7 as never)).toThrow(InvalidArgumentError);
    expect(() => new GroupMember({} as ZkClient, '/g', 'a')).toThrow(InvalidArgumentError);
    expect(() => new GroupMember(client, '/g', 'a', Buffer.alloc(client.maxDataBytes + 1))).toThrow(
      DataTooLargeError,
    );
    const member = new GroupMember(client, '/g', 'a');
    await expect(member.setPayload(Buffer.alloc(client.maxDataBytes + 1))).rejects.toThrow(
      DataTooLargeError,
    );
    await expect(member.start({ timeout: -5 })).rejects.toThrow(InvalidArgumentError);
    expect(await client.exists('/g')).toBeNull();
    await member.close();
    await expect(member.start()).rejects.toThrow(GroupClosedError);
  });

  test('group member - without a payload its node holds the local address, as Curator does', async ({
    zk,
  }) => {
    const client = await zk.client();
    const member = new GroupMember(client, '/groups/d', 'm');
    await member.start();
    expect((await client.get('/groups/d/m')).data.toString()).toBe(defaultNodeData());
    await member.close();
  });

  test('group member - members see each other join, change payload and leave', async ({ zk }) => {
    const a = new GroupMember(await zk.client(), '/groups/w', 'a', 'pa');
    const b = new GroupMember(await zk.client(), '/groups/w', 'b', 'pb');
    const events: string[] = [];
    a.on('joined', (id, p) => events.push(`joined ${id} ${p.toString()}`));
    a.on('updated', (id, p) => events.push(`updated ${id} ${p.toString()}`));
    a.on('left', (id) => events.push(`left ${id}`));
    await a.start({ timeout: 10_000 });
    expect(payloads(a)).toEqual({ a: 'pa' });
    await b.start({ timeout: 10_000 });
    expect(payloads(b)).toEqual({ a: 'pa', b: 'pb' });
    await waitFor(() => payloads(a)['b'] === 'pb', { message: 'a to see b' });

    await b.setPayload('pb2');
    await waitFor(() => payloads(a)['b'] === 'pb2', { message: 'a to see b update' });
    expect(payloads(b)['b']).toBe('pb2');

    await b.close();
    await waitFor(() => !a.members().has('b'), { message: 'a to see b leave' });
    expect(events).toEqual(['joined a pa', 'joined b pb', 'updated b pb2', 'left b']);
    await a.close();
    expect(a.members().size).toBe(0);
    // Every watch the members set is gone with them.
    expect(a.client.watchCount).toBe(0);
    expect(b.client.watchCount).toBe(0);
  });

  test('group member - a dropped connection keeps the member; an expired session joins again', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const flaky = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const observer = new GroupMember(await zk.client(), '/groups/x', 'observer');
    await observer.start({ timeout: 10_000 });
    const member = new GroupMember(flaky, '/groups/x', 'm', 'v1');
    await member.start({ timeout: 10_000 });
    await waitFor(() => observer.members().has('m'));
    const left: string[] = [];
    observer.on('left', (id) => left.push(id));

    proxy.drop();
    await waitFor(() => flaky.state === 'reconnected', { message: 'the client to reconnect' });
    await member.setPayload('v2');
    await waitFor(() => observer.members().get('m')?.toString() === 'v2');
    expect(left).toEqual([]);

    await expireSession(flaky);
    await waitFor(
      async () => (await flaky.exists('/groups/x/m'))?.ephemeralOwner === flaky.sessionId,
      {
        message: 'the member node under the new session',
      },
    );
    await waitFor(() => observer.members().get('m')?.toString() === 'v2');
    expect((await flaky.get('/groups/x/m')).data.toString()).toBe('v2');
    await member.close();
    await waitFor(() => !observer.members().has('m'));
    expect(await flaky.exists('/groups/x/m')).toBeNull();
    await observer.close();
  });
});
