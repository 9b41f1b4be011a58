import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { expireSession, waitFor } from '@zkit/testing';
import { InvalidArgumentError, InvalidPathError } from '@zkit/core';
import { GroupClosedError, Party } from '../src/index.js';

describe('party', () => {
  test('party - bad input is refused before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new Party(client, 'p', 'a')).toThrow(InvalidPathError);
    expect(() => new Party(client, '/p', 'a/b', { shallow: true })).toThrow(InvalidPathError);
    expect(() => new Party(client, '/p', 3 as never)).toThrow(InvalidArgumentError);
    expect(() => new Party(client, '/p', 'a', { shallow: 'yes' as never })).toThrow(
      InvalidArgumentError,
    );
    const party = new Party(client, '/p', 'a');
    await expect(party.join({ timeout: 1.5 })).rejects.toThrow(InvalidArgumentError);
    expect(await client.exists('/p')).toBeNull();
    await party.close();
    await expect(party.join()).rejects.toThrow(GroupClosedError);
  });

  for (const shallow of [false, true]) {
    const layout = shallow ? 'shallow' : 'deep';
    test(`party - ${layout} members join, are listed, survive a drop and an expiry, and leave`, async ({
      zk,
    }) => {
      const proxy = await zk.proxy();
      const one = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
      const two = await zk.client();
      const a = new Party(one, '/party', 'host-a', { shallow });
      const b = new Party(two, '/party', 'host-b', { shallow });
      expect(await a.members()).toEqual([]);
      await a.join();
      await b.join();
      expect(await b.members()).toEqual(['host-a', 'host-b']);
      const [name] = (await two.getChildren('/party')).filter((c) =>
        c.startsWith(a.node.slice(0, 32)),
      );
      expect(name).toBe(a.node);
      expect(a.node).toMatch(shallow ? /^[0-9a-f]{32}-host-a$/ : /^[0-9a-f]{32}__party__$/);
      // A dropped connection keeps the session, and the node with it.
      const session = one.sessionId;
      const before = await two.exists(`/party/${a.node}`);
      proxy.drop();
      await waitFor(() => one.state === 'reconnected', { message: 'a to reconnect' });
      expect(one.sessionId).toBe(session);
      expect((await two.exists(`/party/${a.node}`))?.czxid).toBe(before?.czxid);
      await expireSession(one);
      await waitFor(
        async () => (await two.exists(`/party/${a.node}`))?.ephemeralOwner === one.sessionId,
        {
          message: 'a back in the party',
        },
      );
      expect(await b.members()).toEqual(['host-a', 'host-b']);
      await a.leave();
      expect(await b.members()).toEqual(['host-b']);
      await b.close();
      expect(await a.members()).toEqual([]);
    });
  }
});
