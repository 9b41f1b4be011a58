import { ZkClient } from '@zkit/core';
import { PutOutcomeUnknownError, Queue, type Message } from '@zkit/queue';
import { expireSession, FaultProxy, waitFor } from '@zkit/testing';
import {
  orphansAfter,
  pause,
  planFaults,
  reaped,
  runFaults,
  SESSION_TIMEOUT,
  type EphemeralNode,
  type FaultKind,
  type FaultRecord,
} from './harness.js';
import { Random } from './random.js';
import type { ChaosContext } from './scenario-mutex.js';

export interface QueueOptions {
  readonly producers: number;
  readonly consumers: number;
  /** Pause between two puts of one producer, [min, max] ms; producers run until the schedule ends. */
  readonly putPauseMs: readonly [number, number];
  /** Share of items (0–1) whose processing is slow (a second or two), so faults find work in flight. */
  readonly slowShare: number;
  readonly faults: readonly FaultKind[];
}

export interface QueueResult {
  /** Items whose `put` resolved. */
  readonly produced: number;
  /** `put`s that failed (the item may or may not have landed). */
  readonly failedPuts: number;
  /** Of those, the ones rejected with `PutOutcomeUnknownError` (a consumer may have the item). */
  readonly unknownPuts: number;
  readonly acked: number;
  /** Items consumed whose ack got no answer (the consumer crashed or expired meanwhile). */
  readonly consumedUnanswered: number;
  /** Confirmed items never acknowledged. */
  readonly lost: readonly string[];
  readonly deliveries: number;
  /** Deliveries of an item node beyond its first. */
  readonly redeliveries: number;
  /** Item ids queued as two nodes or more: `put` must never do that. */
  readonly doublePuts: number;
  /** Duplicates not explained by a crash, an expiry, or a disturbed put. */
  readonly unexplained: readonly string[];
  readonly faults: readonly FaultRecord[];
  readonly orphans: readonly EphemeralNode[];
  readonly leftClaims: number;
  readonly unreaped: readonly string[];
  readonly durationMs: number;
}

interface Item {
  readonly id: string;
}

interface Consumer {
  readonly name: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
  readonly stop: AbortController;
  loop: Promise<void>;
  /** Messages delivered and not yet settled. */
  readonly inFlight: Set<Message<Item>>;
}

interface Delivery {
  readonly consumer: string;
  readonly session: string;
}

/**
 * An at-least-once queue under faults: producers put uniquely numbered items, consumers `consume`
 * and ack them, while the schedule restarts servers, partitions clients, expires consumers'
 * sessions and crashes a consumer (its client closed with messages in flight). At the end every
 * item that was put has been acknowledged; an item delivered twice must be explained by the end
 * of the session that held it first.
 */
export async function runQueueChaos(
  ctx: ChaosContext,
  options: QueueOptions,
): Promise<QueueResult> {
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'queue');
  const root = '/chaos/queue';
  const path = `${root}/jobs`;
  const claimPath = `${root}/jobs-claims`;
  const proxies: FaultProxy[] = [];
  const clients: ZkClient[] = [];
  const consumers: Consumer[] = [];
  /** Sessions known to have ended: lost (a new session replaced them) or closed. */
  const endedSessions = new Set<string>();
  const produced = new Set<string>();
  /** Item ids whose put saw the connection drop while it was in flight. */
  const disturbedPuts = new Set<string>();
  let failedPuts = 0;
  let unknownPuts = 0;
  const acked = new Set<string>();
  /**
   * Item nodes whose ack was given up without an answer (the client closed, or its session
   * ended, with the delete in flight): the delete may or may not have landed.
   */
  const ackUnanswered = new Map<string, string>();
  const deliveries = new Map<string, Delivery[]>();
  const idsByNode = new Map<string, string>();
  let deliveryCount = 0;
  const producersStop = new AbortController();

  const connect = async (): Promise<{ client: ZkClient; proxy: FaultProxy }> => {
    const proxy = await FaultProxy.start(ctx.ensemble.connectString);
    proxies.push(proxy);
    const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
    client.on('session', (_now, previous) => {
      if (previous !== undefined) endedSessions.add(previous);
    });
    clients.push(client);
    await client.start();
    return { client, proxy };
  };

  const startConsumer = async (name: string, reuse?: FaultProxy): Promise<Consumer> => {
    let client: ZkClient;
    let proxy: FaultProxy;
    if (reuse) {
      proxy = reuse;
      client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
      client.on('session', (_now, previous) => {
        if (previous !== undefined) endedSessions.add(previous);
      });
      clients.push(client);
      await client.start();
    } else {
      ({ client, proxy } = await connect());
    }
    const queue = new Queue<Item>(client, path, { lockPath: claimPath });
    const consumer: Consumer = {
      name,
      proxy,
      client,
      stop: new AbortController(),
      loop: Promise.resolve(),
      inFlight: new Set(),
    };
    const workRandom = Random.derive(ctx.seed, name);
    consumer.loop = (async () => {
      try {
        for await (const message of queue.consume({
          signal: consumer.stop.signal,
          concurrency: 2,
        })) {
          const session = client.sessionId ?? '?';
          deliveryCount += 1;
          idsByNode.set(message.path, message.value.id);
          const list = deliveries.get(message.path) ?? [];
          list.push({ consumer: name, session });
          deliveries.set(message.path, list);
          consumer.inFlight.add(message);
          const work =
            workRandom.next() < options.slowShare
              ? workRandom.int(1000, 2000)
              : workRandom.int(0, 5);
          void (async () => {
            await pause(work);
            // A failed ack leaves the claim in place while the session lives: ack again once
            // connected. Once the session is gone, so is the claim, and the item comes back.
            for (;;) {
              try {
                await message.ack();
                acked.add(message.value.id);
                break;
              } catch {
                if (client.state === 'closed' || client.sessionId !== session) {
                  ackUnanswered.set(message.path, message.value.id);
                  break;
                }
                await client.whenConnected().catch(() => undefined);
              }
            }
            consumer.inFlight.delete(message);
          })();
        }
      } catch {
        // The client was closed under it (a crash).
      }
    })();
    consumers.push(consumer);
    return consumer;
  };

  try {
    const producerClients = [];
    for (let i = 0; i < options.producers; i += 1) producerClients.push(await connect());
    for (let i = 0; i < options.consumers; i += 1) await startConsumer(`consumer-${i + 1}`);

    const producing = producerClients.map(async ({ client }, p) => {
      const queue = new Queue<Item>(client, path, { lockPath: claimPath });
      let stateChanges = 0;
      client.on('state', () => (stateChanges += 1));
      const pace = Random.derive(ctx.seed, `producer-${p + 1}`);
      for (let n = 0; !producersStop.signal.aborted; n += 1) {
        const id = `p${p + 1}-${n}`;
        const before = stateChanges;
        try {
          await queue.put({ id });
          produced.add(id);
        } catch (error) {
          failedPuts += 1;
          if (error instanceof PutOutcomeUnknownError) unknownPuts += 1;
        }
        if (stateChanges !== before) disturbedPuts.add(id);
        await pause(pace.int(options.putPauseMs[0], options.putPauseMs[1]));
      }
    });

    const producerSlots = producerClients.map((c, i) => ({
      name: `producer-${i + 1}`,
      proxy: c.proxy,
    }));
    let crashes = 0;
    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r) =>
          r.pick([...producerSlots, ...consumers.filter((c) => !c.stop.signal.aborted)]),
        expire: async (r) => {
          const active = consumers.filter((c) => !c.stop.signal.aborted);
          const busy = active.filter((c) => c.inFlight.size > 0);
          const target = r.pick(busy.length > 0 ? busy : active);
          await expireSession(target.client, { connectString: ctx.ensemble.connectString });
          return target.name;
        },
        crash: async (r) => {
          const active = consumers.filter((c) => !c.stop.signal.aborted);
          const busy = active.filter((c) => c.inFlight.size > 0);
          const target = r.pick(busy.length > 0 ? busy : active);
          // Closed without settling what it holds: its claims go with its session.
          const session = target.client.sessionId;
          const inFlight = target.inFlight.size;
          target.stop.abort();
          await target.client.close();
          if (session !== undefined) endedSessions.add(session);
          crashes += 1;
          await startConsumer(`${target.name}-${crashes + 1}`, target.proxy);
          return `${target.name} (${inFlight} in flight)`;
        },
      },
      random,
      ctx.log,
    );

    producersStop.abort();
    await Promise.all(producing);
    const drained = Date.now();
    const unanswered = (): Set<string> => new Set(ackUnanswered.values());
    await waitFor(
      async () =>
        [...produced].every((id) => acked.has(id) || unanswered().has(id)) &&
        (await ctx.admin.getChildren(path)).length === 0,
      { timeout: 60_000, interval: 50, message: 'every produced item to be acknowledged' },
    ).catch(() => undefined);
    ctx.log(`  queue drained ${Date.now() - drained} ms after the producers finished`);
    // An item whose only acks went unanswered was consumed if its node is gone: nothing but an
    // ack deletes an item node.
    let consumedUnanswered = 0;
    const lost: string[] = [];
    for (const id of produced) {
      if (acked.has(id)) continue;
      const nodes = [...ackUnanswered].filter(([, v]) => v === id).map(([node]) => node);
      const gone = await Promise.all(nodes.map(async (n) => (await ctx.admin.exists(n)) === null));
      if (nodes.length > 0 && gone.every(Boolean)) consumedUnanswered += 1;
      else lost.push(id);
    }
    if (lost.length > 0) {
      // Say where each lost item is: its node, its deliveries, and who holds a claim on it.
      const claims = await ctx.admin.getChildren(claimPath).catch(() => [] as string[]);
      for (const claim of claims) {
        const stat = await ctx.admin.exists(`${claimPath}/${claim}`);
        ctx.log(`  claim ${claim} owned by ${stat?.ephemeralOwner ?? 'nobody (gone)'}`);
      }
      for (const id of lost) {
        const nodes = [...idsByNode].filter(([, v]) => v === id).map(([node]) => node);
        ctx.log(
          `  lost ${id}: nodes ${nodes.join(', ') || 'never delivered'}; deliveries ` +
            nodes.map((n) => JSON.stringify(deliveries.get(n))).join(', '),
        );
      }
      ctx.log(
        `  consumers: ${consumers.map((c) => `${c.name}@${c.client.sessionId}${c.stop.signal.aborted ? ' (stopped)' : ''} in flight ${c.inFlight.size}`).join('; ')}`,
      );
      ctx.log(`  queue holds ${(await ctx.admin.getChildren(path).catch(() => [])).length} items`);
    }

    const orphans = await orphansAfter(ctx.ensemble, ctx.admin, root, SESSION_TIMEOUT + 4000);
    for (const consumer of consumers) consumer.stop.abort();
    await Promise.all(consumers.map((c) => c.loop));
    const leftClaims = await ctx.admin
      .getChildren(claimPath)
      .then((children) => children.length)
      .catch(() => 0);
    const unreaped = (await reaped(ctx.admin, claimPath, 10_000)) ? [] : [claimPath];

    // Every delivery of a node but the last must belong to a session that ended (expired, lost
    // or closed by a crash): the claim went with it. Two nodes for one id would be a put that
    // queued its item twice.
    let redeliveries = 0;
    const unexplained: string[] = [];
    for (const [node, list] of deliveries) {
      redeliveries += list.length - 1;
      for (const earlier of list.slice(0, -1)) {
        if (!endedSessions.has(earlier.session)) {
          unexplained.push(
            `${node} delivered to ${list.map((d) => `${d.consumer}@${d.session}`).join(', ')}`,
          );
        }
      }
    }
    const nodesById = new Map<string, number>();
    for (const id of idsByNode.values()) nodesById.set(id, (nodesById.get(id) ?? 0) + 1);
    let doublePuts = 0;
    for (const [id, nodes] of nodesById) {
      if (nodes < 2) continue;
      doublePuts += nodes - 1;
      unexplained.push(
        `${id} queued ${nodes} times by a${disturbedPuts.has(id) ? ' disturbed' : 'n undisturbed'} put`,
      );
    }

    return {
      produced: produced.size,
      failedPuts,
      unknownPuts,
      acked: acked.size,
      consumedUnanswered,
      lost,
      deliveries: deliveryCount,
      redeliveries,
      doublePuts,
      unexplained,
      faults,
      orphans,
      leftClaims,
      unreaped,
      durationMs: Date.now() - started,
    };
  } finally {
    producersStop.abort();
    for (const consumer of consumers) consumer.stop.abort();
    for (const proxy of proxies) proxy.heal();
    await Promise.all(consumers.map((c) => c.loop));
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(proxies.map((p) => p.close()));
  }
}
