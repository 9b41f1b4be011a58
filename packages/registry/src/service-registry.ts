import {
  BadVersionError,
  ClientClosedError,
  Emitter,
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  SessionExpiredError,
  combineSignals,
  getChildrenData,
  isRetryable,
  openExtraConnection,
  join,
  validatePath,
  type ChildData,
  type Stat,
  type WaitOptions,
  type ZkClient,
  checkClient,
} from '@zkit/core';
import {
  DuplicateInstanceError,
  MalformedInstanceError,
  NotRegisteredError,
  RegistryClosedError,
} from './errors.js';
import {
  normalize,
  parse,
  serialize,
  type InstanceInput,
  type ServiceInstance,
} from './instance.js';
import { ServiceCache, type ServiceCacheOptions } from './service-cache.js';
import {
  ServiceProvider,
  checkProviderOptions,
  type ServiceProviderOptions,
} from './service-provider.js';

/**
 * Options of {@link ServiceRegistry}.
 *
 * @example
 * ```ts
 * new ServiceRegistry(client, { basePath: '/services' }); // Curator: ServiceDiscoveryBuilder.basePath("/services")
 * ```
 */
export interface ServiceRegistryOptions {
  /** Where services live: instances are `basePath/<name>/<id>` (Curator's `basePath`). */
  readonly basePath: string;
}

/**
 * Options of {@link ServiceRegistry.register}.
 *
 * @example
 * ```ts
 * // A restarted process reuses its id while its old session may still be alive on the server.
 * await registry.register({ name: 'api', id: hostname() }, { takeover: true, timeout: 10_000 });
 * ```
 */
export interface RegisterOptions extends WaitOptions {
  /**
   * Replace a node with the same id that belongs to a session this registry does not know,
   * instead of rejecting with {@link DuplicateInstanceError}. Kept for re-registrations too.
   * Default `false`.
   */
  readonly takeover?: boolean;
}

/**
 * Typed events of {@link ServiceRegistry}.
 *
 * @example
 * ```ts
 * registry.on('error', (error, instance) => log.error(`${instance.id} is no longer registered`, error));
 * ```
 */
export interface ServiceRegistryEvents {
  /** A registration was written again under a new session (after `lost`). */
  reregistered: [instance: ServiceInstance];
  /** A query skipped a node whose data is not a readable instance. */
  quarantined: [error: MalformedInstanceError];
  /**
   * A re-registration failed for good (e.g. the id was taken by another session meanwhile).
   * Only that: a listener of the registry that throws or rejects is reported on the
   * `zkit:listener:error` channel (or as a process warning), not here (see core's `Emitter`).
   */
  error: [error: unknown, instance: ServiceInstance];
}

/**
 * One instance registered by this process: the value {@link ServiceRegistry.register} returns.
 * `await using` it to unregister on scope exit.
 *
 * @example
 * ```ts
 * await using registration = await registry.register({ name: 'worker', port: 9000 });
 * await serve(registration.instance.port);
 * ```
 */
export interface Registration<P = unknown> {
  /** The instance as written (with its id and registration time filled in). */
  readonly instance: ServiceInstance<P>;
  /** Its node, `basePath/<name>/<id>`. */
  readonly path: string;
  /** Same as `registry.unregister(instance.id)`. */
  unregister(): Promise<void>;
  /** Same as {@link Registration.unregister}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Entry {
  instance: ServiceInstance;
  payloadClass: string | undefined;
  data: string;
  readonly path: string;
  readonly takeover: boolean;
  /** Writes to one node run one after another. */
  queue: Promise<unknown>;
}

const MAX_ATTEMPTS = 8;

/**
 * Registers service instances and queries them, in Apache Curator's `curator-x-discovery`
 * layout: each instance is a node `basePath/<name>/<id>` holding Curator's compatible-mode JSON
 * (`name, id, address, port, sslPort, payload, registrationTimeUTC, serviceType, uriSpec`),
 * ephemeral for `DYNAMIC` instances, under container parents. A Curator `ServiceDiscovery` on
 * the same base path sees these instances, and this registry sees Curator's.
 *
 * **Sessions.** A `DYNAMIC` instance lives as long as the client's session. While the connection
 * is `suspended` nothing is done (the node is still there if the session survives); on a
 * reconnect to the same session nothing is rewritten, so watchers see no flapping. When the
 * session is `lost`, every instance registered here is written again under the new session as
 * soon as it is up (`reregistered` event); a node still present from an earlier session of this
 * registry is replaced. A node owned by a session the registry does not know is a conflict:
 * `register()` rejects with {@link DuplicateInstanceError} (unless `takeover`), and a
 * re-registration reports it on the `error` event and forgets the instance.
 *
 * **Reading.** Queries read all instances of a service in parallel (pipelined on the one
 * connection). They ignore unknown fields, strip Java's `"@class"` from payloads and skip a
 * malformed node (reported on `quarantined`) instead of failing.
 *
 * Queries wait for the connection while it is down (up to the client's `connectTimeout`) and
 * reject with core's errors (`ConnectionLossError`, `SessionExpiredError`, `ClientClosedError`).
 *
 * @example
 * ```ts
 * const registry = new ServiceRegistry(client, { basePath: '/services' });
 * await registry.register({ name: 'api', address: '10.0.0.5', port: 8080, uriSpec: '{scheme}://{address}:{port}' });
 * const provider = registry.provider('api', { strategy: 'roundRobin' });
 * const api = await provider.getInstance();
 * ```
 */
export class ServiceRegistry extends Emitter<ServiceRegistryEvents> {
  readonly client: ZkClient;
  readonly basePath: string;
  readonly #own = new Map<string, Entry>();
  /** Sessions of this client seen by this registry: their nodes are ours to replace. */
  readonly #sessions = new Set<string>();
  readonly #children = new Set<ServiceCache | ServiceProvider>();
  #closed = false;

  /**
   * @throws `InvalidPathError` for a bad `basePath`, `InvalidArgumentError` for bad options
   */
  constructor(client: ZkClient, options: ServiceRegistryOptions) {
    // `error` always names the instance whose re-registration failed; a failed listener has none.
    super({ errorEvent: false });
    checkClient(client);
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options with a basePath are required');
    }
    validatePath(options.basePath);
    this.client = client;
    this.basePath = options.basePath;
    if (client.sessionId !== undefined) this.#sessions.add(client.sessionId);
    client.on('session', this.#onSession);
  }

  /** Ids of the instances this registry has registered (and keeps registered). */
  get registered(): ServiceInstance[] {
    return [...this.#own.values()].map((e) => e.instance);
  }

  /**
   * Registers an instance: creates `basePath/<name>/<id>` (parents as containers) with the
   * instance's JSON, or rewrites it when it is already ours. Registering an id again with the
   * same name acts as {@link ServiceRegistry.update}. Resolves once the node is written.
   *
   * While the connection is down it waits (client `connectTimeout`, retry policy); if the
   * session is lost meanwhile, the instance is still written under the new session.
   *
   * @throws `InvalidArgumentError` / `InvalidPathError` for bad input (before any I/O),
   * {@link DuplicateInstanceError}, {@link RegistryClosedError}, core's connection errors,
   * the signal's reason on abort, a `TimeoutError` on timeout. On failure the instance is not
   * kept for re-registration.
   */
  async register<P = unknown>(
    input: InstanceInput<P>,
    options: RegisterOptions = {},
  ): Promise<Registration<P>> {
    const { instance, payloadClass } = normalize(input);
    const signal = combineSignals(options);
    if (options.takeover !== undefined && typeof options.takeover !== 'boolean') {
      throw new InvalidArgumentError('takeover must be a boolean');
    }
    this.#assertOpen();
    const path = join(this.basePath, instance.name, instance.id);
    const existing = this.#own.get(instance.id);
    if (existing && existing.path !== path) {
      throw new InvalidArgumentError(
        `id ${instance.id} is already registered here under another name`,
      );
    }
    const entry: Entry = existing ?? {
      instance,
      payloadClass,
      data: '',
      path,
      takeover: options.takeover ?? false,
      queue: Promise.resolve(),
    };
    entry.instance = instance;
    entry.payloadClass = payloadClass;
    entry.data = serialize(instance, payloadClass);
    this.#own.set(instance.id, entry);
    try {
      await this.#serial(entry, () => this.#write(entry, signal));
    } catch (error) {
      if (!existing && this.#own.get(instance.id) === entry) this.#own.delete(instance.id);
      throw error;
    }
    return {
      instance: instance as ServiceInstance<P>,
      path,
      unregister: () => this.unregister(instance.id),
      [Symbol.asyncDispose]: () => this.unregister(instance.id),
    };
  }

  /**
   * Rewrites a registered instance's data (same name and id; other fields may change). Watchers
   * see one `updated` change. The registration time is kept unless the input names one.
   *
   * @throws {@link NotRegisteredError} when the id was not registered here, and what
   * {@link ServiceRegistry.register} throws
   */
  async update<P = unknown>(
    input: InstanceInput<P> & { readonly id: string },
    options: WaitOptions = {},
  ): Promise<ServiceInstance<P>> {
    const entry = typeof input === 'object' && input !== null ? this.#own.get(input.id) : undefined;
    if (!entry)
      throw new NotRegisteredError(join(this.basePath, String(input?.name), String(input?.id)));
    const { instance, payloadClass } = normalize({
      registrationTimeUTC: entry.instance.registrationTimeUTC,
      ...input,
    });
    if (instance.name !== entry.instance.name) {
      throw new InvalidArgumentError('update cannot change an instance name');
    }
    const signal = combineSignals(options);
    this.#assertOpen();
    entry.instance = instance;
    entry.payloadClass = payloadClass;
    entry.data = serialize(instance, payloadClass);
    await this.#serial(entry, () => this.#write(entry, signal));
    return instance as ServiceInstance<P>;
  }

  /**
   * Stops keeping an instance registered and deletes its node (only if the node is ours: a
   * node that another session took over is left alone). A missing node is not an error.
   *
   * @throws {@link NotRegisteredError}, core's connection errors (the instance is forgotten
   * anyway; an ephemeral node disappears with its session)
   */
  async unregister(id: string, options: WaitOptions = {}): Promise<void> {
    const entry = this.#own.get(id);
    if (!entry) throw new NotRegisteredError(join(this.basePath, String(id)));
    const signal = combineSignals(options);
    this.#own.delete(id);
    await this.#serial(entry, () => this.#remove(entry, signal));
  }

  /** Names of the registered services (children of `basePath`), sorted. `[]` if none. */
  async names(options: WaitOptions = {}): Promise<string[]> {
    const signal = combineSignals(options);
    try {
      return (await this.client.getChildren(this.basePath, signal ? { signal } : {})).sort();
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  /**
   * All instances of a service, sorted by id. Malformed nodes are skipped and reported on
   * `quarantined`; nodes deleted while reading are skipped.
   *
   * Read with core's `getChildrenData`: a `sync`, the listing and one multi-read per 128
   * instances over the client's extra watch connection (ZooKeeper 3.6+), so a cold query of
   * hundreds of instances takes a few round trips, not one per instance. The result includes
   * every registration committed before the call. Where multi-read is not available the
   * instances are read in parallel through the client.
   *
   * @throws `InvalidPathError` for a bad name, core's connection errors
   */
  async instances(name: string, options: WaitOptions = {}): Promise<ServiceInstance[]> {
    const servicePath = this.#servicePath(name);
    const signal = combineSignals(options);
    const read = signal ? { signal } : {};
    let children: ChildData[];
    try {
      children = await getChildrenData(this.client, servicePath, read);
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
    const found: ServiceInstance[] = [];
    for (const { name, data } of children) {
      const instance = this.#parse(data, join(servicePath, name), name);
      if (instance) found.push(instance);
    }
    return found;
  }

  /** One instance, or `null` when it does not exist or is malformed (then also `quarantined`). */
  async instance(
    name: string,
    id: string,
    options: WaitOptions = {},
  ): Promise<ServiceInstance | null> {
    const servicePath = this.#servicePath(name);
    if (typeof id !== 'string' || id === '' || id.includes('/')) {
      throw new InvalidArgumentError('an instance id must be one non-empty path segment');
    }
    const path = join(servicePath, id);
    validatePath(path);
    const signal = combineSignals(options);
    return this.#read(path, id, signal ? { signal } : {});
  }

  /**
   * A live cache of one service's instances, started at once. Closed with the registry.
   * @throws `InvalidPathError` for a bad name, {@link RegistryClosedError}
   */
  cache(name: string, options: ServiceCacheOptions = {}): ServiceCache {
    const path = this.#servicePath(name);
    this.#assertOpen();
    const cache = new ServiceCache(this.client, path, name, options);
    this.#track(cache);
    return cache;
  }

  /**
   * Picks instances of one service by a strategy, over its own {@link ServiceCache}, with a
   * down-instance policy. Closed with the registry.
   * @throws `InvalidPathError`, `InvalidArgumentError` for bad options, {@link RegistryClosedError}
   */
  provider(name: string, options: ServiceProviderOptions = {}): ServiceProvider {
    const path = this.#servicePath(name);
    checkProviderOptions(options);
    this.#assertOpen();
    const provider = new ServiceProvider(new ServiceCache(this.client, path, name), options);
    this.#track(provider);
    return provider;
  }

  /**
   * Optional warm-up, like Curator's `ServiceDiscovery.start()`. On the wire transport cold
   * queries ({@link ServiceRegistry.instances}) and caches use the client's own session, so it
   * resolves at once. With `transport: 'native'` it opens the client's extra connection they
   * use, so that the first of them does not pay for opening a session; without it, the
   * connection opens on first use. Its failure is not fatal: queries then read through the
   * client.
   *
   * @throws {@link RegistryClosedError}; the signal's reason or `TimeoutError`
   */
  async start(options: WaitOptions = {}): Promise<void> {
    this.#assertOpen();
    await openExtraConnection(this.client, options);
  }

  /**
   * Unregisters every instance registered here (best effort: errors are ignored, ephemeral nodes
   * go with the session anyway) and closes the caches and providers made here. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.client.off('session', this.#onSession);
    const entries = [...this.#own.values()];
    this.#own.clear();
    await Promise.all([
      ...[...this.#children].map((c) => c.close()),
      ...entries.map((e) =>
        this.#serial(e, () => (this.client.state === 'closed' ? undefined : this.#remove(e))).catch(
          () => undefined,
        ),
      ),
    ]);
    this.#children.clear();
  }

  /** Same as {@link ServiceRegistry.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------

  #servicePath(name: string): string {
    if (typeof name !== 'string' || name === '' || name.includes('/')) {
      throw new InvalidArgumentError('a service name must be one non-empty path segment');
    }
    const path = join(this.basePath, name);
    validatePath(path);
    return path;
  }

  #assertOpen(): void {
    if (this.#closed) throw new RegistryClosedError(this.basePath);
  }

  #track(child: ServiceCache | ServiceProvider): void {
    this.#children.add(child);
    const cache = child instanceof ServiceCache ? child : child.cache;
    cache.once('closed', () => this.#children.delete(child));
  }

  async #read(
    path: string,
    id: string,
    options: { signal?: AbortSignal },
  ): Promise<ServiceInstance | null> {
    let data: Buffer;
    try {
      data = (await this.client.get(path, options)).data;
    } catch (error) {
      if (error instanceof NoNodeError) return null;
      throw error;
    }
    return this.#parse(data, path, id);
  }

  /** The instance in `data`, or `null` (reported on `quarantined`) when it is malformed. */
  #parse(data: Buffer, path: string, id: string): ServiceInstance | null {
    try {
      return parse(data, path, id);
    } catch (error) {
      if (!(error instanceof MalformedInstanceError)) throw error;
      this.emit('quarantined', error);
      return null;
    }
  }

  #serial<T>(entry: Entry, fn: () => Promise<T> | T): Promise<T> {
    const run = entry.queue.then(fn, fn);
    entry.queue = run.catch(() => undefined);
    return run;
  }

  /** Creates the node, or makes the existing one ours with our data. */
  async #write(entry: Entry, signal: AbortSignal | undefined): Promise<void> {
    const mode = entry.instance.serviceType === 'DYNAMIC' ? 'ephemeral' : 'persistent';
    const read = signal ? { signal } : {};
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await this.client.create(entry.path, entry.data, { mode, parents: 'container', ...read });
        return;
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
        lastError = error;
      }
      let found: { data: Buffer; stat: Stat };
      try {
        found = await this.client.get(entry.path, read);
      } catch (error) {
        if (error instanceof NoNodeError) continue;
        throw error;
      }
      const owner = found.stat.ephemeralOwner;
      const mine = mode === 'ephemeral' ? owner === this.client.sessionId : owner === '0';
      try {
        if (mine) {
          if (found.data.toString('utf8') !== entry.data) {
            await this.client.set(entry.path, entry.data, { version: found.stat.version, ...read });
          }
          return;
        }
        if (!this.#sessions.has(owner) && !entry.takeover) {
          throw new DuplicateInstanceError(entry.path, owner);
        }
        await this.client.delete(entry.path, { version: found.stat.version, ...read });
      } catch (error) {
        if (error instanceof NoNodeError || error instanceof BadVersionError) {
          lastError = error;
          continue;
        }
        throw error;
      }
    }
    throw lastError;
  }

  async #remove(entry: Entry, signal?: AbortSignal): Promise<void> {
    const read = signal ? { signal } : {};
    const stat = await this.client.exists(entry.path, read);
    if (stat === null) return;
    const ours =
      stat.ephemeralOwner === '0' ||
      stat.ephemeralOwner === this.client.sessionId ||
      this.#sessions.has(stat.ephemeralOwner);
    if (!ours) return;
    try {
      await this.client.delete(entry.path, { version: stat.version, ...read });
    } catch (error) {
      if (!(error instanceof NoNodeError) && !(error instanceof BadVersionError)) throw error;
    }
  }

  readonly #onSession = (sessionId: string, previous: string | undefined): void => {
    this.#sessions.add(sessionId);
    if (previous === undefined) return;
    for (const entry of this.#own.values()) {
      void this.#serial(entry, () => this.#reregister(entry, sessionId));
    }
  };

  async #reregister(entry: Entry, sessionId: string): Promise<void> {
    for (;;) {
      // Unregistered meanwhile, or a later session will do it.
      if (this.#own.get(entry.instance.id) !== entry || this.#closed) return;
      if (this.client.sessionId !== sessionId) return;
      try {
        await this.#write(entry, undefined);
        this.emit('reregistered', entry.instance);
        return;
      } catch (error) {
        if (error instanceof ClientClosedError) return;
        if (error instanceof SessionExpiredError) return;
        if (isRetryable(error)) {
          await this.client.whenConnected().catch(() => undefined);
          continue;
        }
        if (error instanceof DuplicateInstanceError && this.#own.get(entry.instance.id) === entry) {
          this.#own.delete(entry.instance.id);
        }
        this.emit('error', error, entry.instance);
        return;
      }
    }
  }
}
