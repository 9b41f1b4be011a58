// An ES module consumer compiled (never run) under strict settings: `types: []`,
// exactOptionalPropertyTypes, verbatimModuleSyntax, with and without skipLibCheck. It uses one
// primary class of every package so that their declaration files are loaded and checked.
import { ZkClient, NoNodeError, type ZkClientOptions } from '@zkit/core';
import { Mutex, Semaphore, type Lease } from '@zkit/lock';
import { LeaderLatch, type LeadershipTerm } from '@zkit/election';
import { Barrier, DoubleBarrier } from '@zkit/barrier';
import { Queue, jsonSerializer, type Message } from '@zkit/queue';
import { ServiceRegistry, ServiceCache, ServiceProvider } from '@zkit/registry';
import { ZooKeeperServer, FaultProxy } from '@zkit/testing';

export async function useEveryPackage(connectString: string): Promise<bigint> {
  const options: ZkClientOptions = { sessionTimeout: 10_000 };
  await using client = new ZkClient(connectString, options);
  await client.start();

  await using lease: Lease = await new Mutex(client, '/app/lock').acquire({ timeout: 5_000 });
  const permits = new Semaphore(client, '/app/permits', 2);
  await (await permits.acquire()).release();

  const latch = new LeaderLatch(client, '/app/leader', { id: 'consumer' });
  latch.on('elected', (term: LeadershipTerm) => term.signal.throwIfAborted());

  await new Barrier(client, '/app/barrier').lower();
  const batch = new DoubleBarrier(client, '/app/batch', { members: 2 });
  void batch;

  const queue = new Queue<unknown>(client, '/app/jobs', { serializer: jsonSerializer });
  await queue.put({ job: 1 });
  const taken: unknown = await queue.take({ timeout: 1_000 });
  for await (const message of queue.consume()) {
    const item: Message<unknown> = message;
    void item;
    break;
  }

  const registry = new ServiceRegistry(client, { basePath: '/services' });
  const cache = new ServiceCache(client, '/services', 'api');
  const provider = new ServiceProvider(cache);
  void registry;
  void provider;

  void taken;

  try {
    await client.get('/missing');
  } catch (error) {
    if (!(error instanceof NoNodeError)) throw error;
  }
  return lease.fencingToken;
}

/** Runs `body` against a throw-away server behind a fault proxy, as a test of the user's would. */
export async function withServer(body: (connectString: string) => Promise<void>): Promise<void> {
  await using server = await ZooKeeperServer.start();
  await using proxy = await FaultProxy.start({ target: server.connectString });
  await body(proxy.connectString);
}
