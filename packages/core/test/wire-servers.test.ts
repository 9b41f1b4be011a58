import { describe, expect, test } from 'vitest';
import { FaultProxy, ZooKeeperEnsemble, ZooKeeperServer, waitFor } from '@zkit/testing';
import { ZkClient } from '@zkit/core';

describe('wire transport on its own servers', () => {
  test('wire transport - a silent server is noticed by the read timeout: suspended, then reconnected to the same session', async () => {
    // Sessions up to 20 ticks: 20 s, so the session outlives the detection with room to spare.
    await using server = await ZooKeeperServer.start({ tickTime: 1000 });
    await using proxy = await FaultProxy.start(server.connectString);
    await using client = new ZkClient(proxy.connectString, {
      transport: 'wire',
      sessionTimeout: 6000,
    });
    await client.start();
    const session = client.sessionId;
    expect(client.sessionTimeout).toBe(6000);
    proxy.partition();
    const cutAt = Date.now();
    // A black hole keeps the socket open: only the read timeout (2/3 of the session timeout,
    // 4 s here) can tell.
    await waitFor(() => client.state === 'suspended', {
      timeout: 10_000,
      message: 'the silence to be noticed',
    });
    const noticedAfter = Date.now() - cutAt;
    expect(noticedAfter).toBeLessThan(6000);
    proxy.heal();
    await waitFor(() => client.state === 'reconnected', { message: 'the client to reconnect' });
    expect(client.sessionId).toBe(session);
    expect(await client.exists('/')).not.toBeNull();
  });

  test('wire transport - a client cut off from its server moves to another member with its watches, and hears what changed meanwhile', async () => {
    // Sessions up to 20 ticks: 10 s.
    await using ensemble = await ZooKeeperEnsemble.start({ size: 3, tickTime: 500 });
    await using proxy = await FaultProxy.start(ensemble.connectString);
    await using writer = new ZkClient(ensemble.connectString, { transport: 'wire' });
    await writer.start();
    await writer.create('/data', 'v0');
    await writer.create('/kids');

    // Only member 0 answers at first, so that is where the client's session starts.
    proxy.partition(1);
    proxy.partition(2);
    await using client = new ZkClient(proxy.connectString, {
      transport: 'wire',
      sessionTimeout: 6000,
      connectTimeout: 30_000,
    });
    await client.start();
    await client.sync('/');
    const data = await client.getWatched('/data');
    const kids = await client.getChildrenWatched('/kids');
    const later = await client.existsWatched('/later');
    expect(data.value.data.toString()).toBe('v0');
    expect(later.value).toBeNull();
    const session = client.sessionId;
    const states: string[] = [];
    client.on('state', (now) => states.push(now));

    // Member 0 falls silent; what happens next reaches the client only through another member.
    proxy.partition(0);
    await writer.set('/data', 'v1');
    await writer.create('/kids/k');
    await writer.create('/later');
    proxy.heal(1);
    proxy.heal(2);
    // Suspension and reconnection can follow each other within milliseconds: record them.
    await waitFor(() => states.includes('reconnected'), {
      timeout: 20_000,
      message: 'the client to reach another member',
    });
    expect(states).toEqual(['suspended', 'reconnected']);
    expect(client.sessionId).toBe(session);
    await expect(data.changed).resolves.toEqual({ type: 'dataChanged', path: '/data' });
    await expect(kids.changed).resolves.toEqual({ type: 'childrenChanged', path: '/kids' });
    await expect(later.changed).resolves.toEqual({ type: 'created', path: '/later' });
    expect((await client.get('/data')).data.toString()).toBe('v1');
  });
});
