/**
 * Creates: the checks before one, missing parents (and a container parent reaped in between),
 * `ensurePath`, and Curator's protected create with its search by uuid after a lost reply.
 *
 * @internal
 * @module
 */
import { randomUUID } from 'node:crypto';
import { CreateFlags, type Acl } from './binding.js';
import {
  ChrootMissingError,
  InvalidArgumentError,
  InvalidPathError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  isRetryable,
} from './errors.js';
import type { Executor } from './executor.js';
import { createFrameBytes } from './frame-size.js';
import {
  INT32_MAX,
  validateAcl,
  type CreateMode,
  type CreateOptions,
  type Data,
  type ReadOptions,
  type ResolvedOptions,
  type VersionOptions,
} from './options.js';
import { join, parent, validateName, validatePath } from './paths.js';
import type { SessionState } from './session-state.js';
import { delay } from './signals.js';
import type { Stat } from './stat.js';
import type { ProtocolTransport } from './transport.js';
import { OPEN_ACL } from './wire/records.js';

const PROTECTED_PREFIX = '_c_';
/** How many times the sweep after a failed protected create tries, across connection problems. */
const SWEEP_ATTEMPTS = 60;

/** The client's requests a create makes besides its own. */
export interface CreatesClient {
  setAcl(path: string, acl: readonly Acl[], options?: VersionOptions): Promise<void>;
  getChildren(path: string, options?: ReadOptions): Promise<string[]>;
  exists(path: string, options?: ReadOptions): Promise<Stat | null>;
  deleteGuaranteed(path: string): Promise<void>;
}

/** The creates of one client. */
export class Creates {
  readonly #client: CreatesClient;
  readonly #session: SessionState;
  readonly #exec: Executor;
  readonly #options: ResolvedOptions;

  constructor(
    client: CreatesClient,
    session: SessionState,
    executor: Executor,
    options: ResolvedOptions,
  ) {
    this.#client = client;
    this.#session = session;
    this.#exec = executor;
    this.#options = options;
  }

  async create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    validatePath(path);
    const mode = options.mode ?? 'persistent';
    const buffer = this.#exec.toBuffer(data, path);
    this.validateCreate(path, mode, options);
    return this.#create(path, buffer, mode, options, options.retry !== false);
  }

  /**
   * A create that also returns the new node's stat: from the create's own reply on the wire
   * transport, read right after it on the native one.
   */
  async createWithStat(
    path: string,
    data: Data | undefined,
    options: CreateOptions,
  ): Promise<{ path: string; stat: Stat }> {
    validatePath(path);
    const mode = options.mode ?? 'persistent';
    const buffer = this.#exec.toBuffer(data, path);
    this.validateCreate(path, mode, options);
    let stat: Stat | undefined;
    const retry = options.retry !== false;
    const created = await this.#create(path, buffer, mode, options, retry, false, (s) => {
      stat = s;
    });
    stat ??= (await this.#client.exists(created, { signal: options.signal })) ?? undefined;
    // Deleted by someone else before its stat could be read (native transport only).
    if (stat === undefined) throw new NoNodeError({ path: created });
    return { path: created, stat };
  }

  /**
   * @param retry - retry on connection loss. Off for protected creates, whose retry must look for
   *   the node by its uuid first.
   * @param absolute - `path` already includes the namespace (used to create the namespace itself)
   */
  async #create(
    path: string,
    buffer: Buffer,
    mode: CreateMode,
    options: CreateOptions,
    retry: boolean,
    absolute = false,
    onStat?: (stat: Stat) => void,
  ): Promise<string> {
    const flags = CreateFlags[mode];
    const full = absolute ? path : this.#exec.abs(path);
    const ttl = options.ttl;
    const acl = options.acl ?? this.#options.defaultAcl;
    const wire = this.#options.transport === 'wire';
    this.#exec.checkFrame(
      createFrameBytes(
        this.#options.chroot + full,
        buffer.length,
        options.acl ?? this.#options.defaultAcl,
        ttl !== undefined,
      ),
      path,
    );
    // The NoNode rule: a container parent may be reaped between our steps; recreate and retry.
    for (let round = 0; ; round++) {
      try {
        let attempt = 0;
        const created = await this.#exec.exec('create', path, options.signal, retry, async (t) => {
          attempt++;
          try {
            if (wire) {
              // The ACL goes with the create: no moment in which the node is open to others.
              const r = await (t as ProtocolTransport).createWithStat(
                full,
                buffer,
                flags,
                ttl,
                acl ?? OPEN_ACL,
              );
              onStat?.(r.stat);
              return r.path;
            }
            return await t.create(full, buffer, flags, ttl);
          } catch (error) {
            if (attempt > 1 && mode === 'ephemeral' && error instanceof NodeExistsError) {
              // Our first attempt may have landed before the connection dropped.
              const stat = await t.exists(full, false);
              if (stat && stat.ephemeralOwner === t.sessionId) {
                if (!acl || wire) onStat?.(stat);
                return full;
              }
            }
            throw error;
          }
        });
        const relative = absolute ? created : this.#exec.rel(created);
        // The binding has no create-with-ACL: the ACL follows the create.
        if (acl && !wire) await this.#client.setAcl(relative, acl, { signal: options.signal });
        return relative;
      } catch (error) {
        // The root always exists, so "no node" for a node right under it means the chroot is
        // missing: say so, rather than blame the node's parent.
        if (
          error instanceof NoNodeError &&
          !(error instanceof ChrootMissingError) &&
          this.#options.chroot !== '' &&
          parent(full) === '/'
        ) {
          throw new ChrootMissingError(this.#options.chroot, { path, cause: error });
        }
        if (!(error instanceof NoNodeError) || !options.parents || round >= 5 || path === '/') {
          throw error;
        }
        await this.#createParents(parent(path), options.parents, options.signal, absolute);
      }
    }
  }

  async #createParents(
    path: string,
    mode: 'container' | 'persistent',
    signal: AbortSignal | undefined,
    absolute: boolean,
  ) {
    if (path === '/' || path === '') return;
    const empty = Buffer.alloc(0);
    const opts = signal ? { signal } : {};
    // Bottom-up: usually only the nearest parent is missing.
    const missing: string[] = [];
    let current = path;
    for (;;) {
      try {
        await this.#create(current, empty, mode, opts, true, absolute);
        break;
      } catch (error) {
        if (error instanceof NodeExistsError) break;
        if (!(error instanceof NoNodeError)) throw error;
        missing.push(current);
        current = parent(current);
        if (current === '/') throw error;
      }
    }
    for (const p of missing.reverse()) {
      try {
        await this.#create(p, empty, mode, opts, true, absolute);
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
    }
  }

  async ensurePath(
    path: string,
    options: { container?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    validatePath(path);
    if (path === '/') return;
    const mode = options.container ? 'container' : 'persistent';
    try {
      await this.ensure(path, mode, options.signal, false);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  /** @param absolute - `path` already includes the namespace (used to create the namespace itself) */
  async ensure(
    path: string,
    mode: 'container' | 'persistent',
    signal: AbortSignal | undefined,
    absolute: boolean,
  ) {
    try {
      await this.#create(
        path,
        Buffer.alloc(0),
        mode,
        { parents: mode, ...(signal ? { signal } : {}) },
        true,
        absolute,
      );
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  async createProtected(
    parentPath: string,
    name: string,
    data?: Data,
    options: CreateOptions = {},
  ): Promise<string> {
    const { mode, buffer, prefix, target } = this.checkProtected(parentPath, name, data, options);
    const retries = this.#options.retry.retries;
    const session = this.#session;
    for (let attempt = 0; ; attempt++) {
      try {
        // One attempt at a time: the retry below is uuid-aware, a blind one is not.
        return await this.#create(target, buffer, mode, options, false);
      } catch (error) {
        if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
        if (attempt >= retries) {
          this.#deleteByPrefixInBackground(parentPath, prefix);
          throw error;
        }
        await session.waitForState(() => session.isConnected, options.signal, false);
        const found = await this.#findProtected(parentPath, prefix, mode, options.signal);
        if (found) return found;
      }
    }
  }

  /** Everything a protected create checks before its first request; throws what it would. */
  checkProtected(parentPath: string, name: string, data: Data | undefined, options: CreateOptions) {
    validatePath(parentPath);
    validateName(name);
    const mode = options.mode ?? 'ephemeralSequential';
    const buffer = this.#exec.toBuffer(data, parentPath);
    this.validateCreate(join(parentPath, name), mode, options);
    const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
    const target = join(parentPath, prefix + name);
    // The frame as sent: the sequence suffix is added by the server, not carried in the request.
    this.#exec.checkFrame(
      createFrameBytes(
        this.#options.chroot + this.#exec.abs(target),
        buffer.length,
        options.acl ?? this.#options.defaultAcl,
        options.ttl !== undefined,
      ),
      target,
    );
    return { mode, buffer, prefix, target };
  }

  async #findProtected(
    parentPath: string,
    prefix: string,
    mode: CreateMode,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    let children: string[];
    try {
      children = await this.#client.getChildren(parentPath, signal ? { signal } : {});
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    const name = children.find((c) => c.startsWith(prefix));
    if (name === undefined) return undefined;
    const path = join(parentPath, name);
    if (mode !== 'ephemeral' && mode !== 'ephemeralSequential') return path;
    const stat = await this.#client.exists(path, signal ? { signal } : {});
    if (stat && stat.ephemeralOwner === this.#session.sessionId) return path;
    // Left by a session we no longer own: remove it, then create afresh.
    if (stat) await this.#client.deleteGuaranteed(path);
    return undefined;
  }

  /**
   * After a protected create gave up, removes whatever node of that uuid landed. Only a
   * connection problem is worth another try, after a pause; any other failure (the parent gone,
   * no permission to list it, the client closed) ends the sweep, since trying again would fail
   * the same way.
   */
  #deleteByPrefixInBackground(parentPath: string, prefix: string): void {
    const session = this.#session;
    const sweep = async () => {
      const { minTimeout, maxTimeout, factor } = this.#options.retry;
      for (let i = 0; i < SWEEP_ATTEMPTS && session.state !== 'closed'; i++) {
        try {
          await session.waitForState(() => session.isConnected, undefined, false, false);
          const children = await this.#client.getChildren(parentPath);
          for (const c of children.filter((n) => n.startsWith(prefix))) {
            await this.#client.deleteGuaranteed(join(parentPath, c));
          }
          return;
        } catch (error) {
          if (!isRetryable(error) && !(error instanceof SessionExpiredError)) return;
          await delay(Math.min(maxTimeout, minTimeout * factor ** i), session.closing.signal);
        }
      }
    };
    void sweep().catch(() => undefined);
  }

  validateCreate(path: string, mode: CreateMode, options: CreateOptions): void {
    if (typeof mode !== 'string' || !Object.hasOwn(CreateFlags, mode)) {
      throw new InvalidArgumentError(`unknown create mode ${String(mode)}`);
    }
    const isTtl = mode === 'persistentWithTtl' || mode === 'persistentSequentialWithTtl';
    if (isTtl) {
      const ttl = options.ttl;
      // The binding passes the TTL to the C client as a signed 32-bit integer.
      if (ttl === undefined || !Number.isInteger(ttl) || ttl <= 0 || ttl > INT32_MAX) {
        throw new InvalidArgumentError(`mode ${mode} needs an integer ttl in [1, ${INT32_MAX}] ms`);
      }
    } else if (options.ttl !== undefined) {
      throw new InvalidArgumentError(`ttl is only valid with the TTL modes, not ${mode}`);
    }
    if (
      options.parents !== undefined &&
      ![false, 'container', 'persistent'].includes(options.parents)
    ) {
      throw new InvalidArgumentError(`parents must be 'container', 'persistent' or false`);
    }
    if (options.retry !== undefined && typeof options.retry !== 'boolean') {
      throw new InvalidArgumentError('retry must be a boolean');
    }
    if (options.acl) validateAcl(options.acl);
    const full = this.#exec.abs(path);
    if (full === '/zookeeper' || full.startsWith('/zookeeper/')) {
      throw new InvalidPathError(path, '/zookeeper is reserved');
    }
    if (path === '/') throw new InvalidPathError(path, 'the root always exists');
  }
}
