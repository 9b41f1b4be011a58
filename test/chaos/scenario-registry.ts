import { ZkClient } from '@zkit/core';
import { ServiceRegistry, type ServiceCache } from '@zkit/registry';
import { expireSession, FaultProxy, waitFor } from '@zkit/testing';
import {
  leftoversAfter,
  orphansAfter,
  planFaults,
  reaped,
  recoveryAfter,
  runFaults,
  SESSION_TIMEOUT,
  type EphemeralNode,
  type FaultKind,
  type FaultRecord,
  type Recovery,
} from './harness.js';
import { Random } from './random.js';
import type { ChaosContext } from './scenario-mutex.js';

export interface RegistryOptions {
  readonly registrars: number;
  readonly observers: number;
  /** Instances each registrar registers before the schedule starts. */
  readonly initialInstances: number;
  readonly faults: readonly FaultKind[];
}

/** How long after a fault every cache showed every registered instance. */

export interface RegistryResult {
  readonly registered: number;
  readonly convergences: readonly Recovery[];
  /** The bound each convergence is held to, ms. */
  readonly boundMs: number;
  /** `error` events of the registries (an instance given up). */
  readonly registryErrors: readonly string[];
  readonly reregistrations: number;
  readonly faults: readonly FaultRecord[];
  readonly orphans: readonly EphemeralNode[];
  readonly leftAfterClose: readonly EphemeralNode[];
  readonly unreaped: readonly string[];
  readonly durationMs: number;
}

interface Member {
  readonly name: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
  readonly registry: ServiceRegistry;
  readonly cache?: ServiceCache;
}

/**
 * Service discovery under faults: registrars register instances (more during the schedule),
 * observers watch them through `ServiceCache`s; the schedule restarts servers, partitions and
 * expires registrars and observers alike. After each fault, every cache must show exactly the
 * registered instances within a bound.
 */
export async function runRegistryChaos(
  ctx: ChaosContext,
  options: RegistryOptions,
): Promise<RegistryResult> {
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'registry');
  const basePath = '/chaos/registry';
  const service = 'api';
  const registrars: Member[] = [];
  const observers: Member[] = [];
  const expected = new Set<string>();
  const convergences: Recovery[] = [];
  const registryErrors: string[] = [];
  let reregistrations = 0;
  // A cut-off registrar comes back with a new session and writes its instances again; the caches
  // then read them. Allow for the server's expiry, the client's reconnect and the rewrites.
  const boundMs = 2 * SESSION_TIMEOUT + 2000;

  const member = async (name: string, observe: boolean): Promise<Member> => {
    const proxy = await FaultProxy.start(ctx.ensemble.connectString);
    const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
    await client.start();
    const registry = new ServiceRegistry(client, { basePath });
    registry.on('error', (error, instance) =>
      registryErrors.push(`${instance.id}: ${String(error)}`),
    );
    registry.on('reregistered', () => (reregistrations += 1));
    if (!observe) return { name, proxy, client, registry };
    const cache = registry.cache(service);
    await cache.ready();
    return { name, proxy, client, registry, cache };
  };

  const all = (): Member[] => [...registrars, ...observers];
  const register = async (registrar: Member): Promise<void> => {
    const id = `${registrar.name}-${expected.size + 1}`;
    await registrar.registry.register({ name: service, id, address: '127.0.0.1', port: 8000 });
    expected.add(id);
  };
  const converged = (): boolean =>
    observers.every((o) => {
      const ids = o.cache?.instances().map((i) => i.id) ?? [];
      return ids.length === expected.size && ids.every((id) => expected.has(id));
    });

  try {
    for (let i = 0; i < options.registrars; i += 1)
      registrars.push(await member(`reg-${i + 1}`, false));
    for (let i = 0; i < options.observers; i += 1)
      observers.push(await member(`obs-${i + 1}`, true));
    for (const registrar of registrars) {
      for (let n = 0; n < options.initialInstances; n += 1) await register(registrar);
    }
    await waitFor(converged, { timeout: 10_000, message: 'the caches to see the first instances' });

    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r) => r.pick(all()),
        expire: async (r) => {
          const target = r.pick(all());
          await expireSession(target.client, { connectString: ctx.ensemble.connectString });
          return target.name;
        },
        afterFault: async (record) => {
          // One more instance, registered right after the fault, while things settle.
          await register(random.pick(registrars));
          convergences.push(
            await recoveryAfter(record, converged, boundMs, {
              interval: 20,
              what: 'every cache to show every instance',
            }),
          );
        },
      },
      random,
      ctx.log,
    );

    const orphans = await orphansAfter(ctx.ensemble, ctx.admin, basePath, SESSION_TIMEOUT + 4000);
    await Promise.all(all().map((m) => m.registry.close()));
    const leftAfterClose = await leftoversAfter(ctx.admin, [basePath], 'instance node');
    const servicePath = `${basePath}/${service}`;
    const unreaped = (await reaped(ctx.admin, servicePath, 10_000)) ? [] : [servicePath];
    return {
      registered: expected.size,
      convergences,
      boundMs,
      registryErrors,
      reregistrations,
      faults,
      orphans,
      leftAfterClose,
      unreaped,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const m of all()) m.proxy.heal();
    await Promise.all(all().map((m) => m.registry.close()));
    await Promise.all(all().map((m) => m.client.close()));
    await Promise.all(all().map((m) => m.proxy.close()));
  }
}
