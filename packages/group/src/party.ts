import { randomUUID } from 'node:crypto';
import {
  InvalidArgumentError,
  NoNodeError,
  PersistentNode,
  getChildrenData,
  join,
  validateName,
  validatePath,
  waitSignal,
  type WaitOptions,
  type ZkClient,
  checkClient,
} from '@zkit/core';
import { GroupClosedError } from './errors.js';

/**
 * Options of {@link Party}.
 *
 * @example
 * ```ts
 * new Party(client, '/parties/crawlers', 'host-a', { shallow: true }); // kazoo's ShallowParty
 * ```
 */
export interface PartyOptions {
  /**
   * kazoo's `ShallowParty` layout: the identifier is part of the node name
   * (`<32 hex>-<identifier>`), so listing the members is one request. Default `false`: kazoo's
   * `Party` layout, `<32 hex>__party__` nodes holding the identifier as data.
   */
  readonly shallow?: boolean;
}

const PARTY_MARK = '__party__';

/**
 * Who is present, without leadership: kazoo's `Party` and `ShallowParty`. Each member is an
 * ephemeral node under `path` (persistent parents, as kazoo creates them); a kazoo party on the
 * same path and layout sees zkit members, and the other way round.
 *
 * Better than kazoo's: a member stays joined across a lost session (its node is a core
 * `PersistentNode`, created again under the new session and after a foreign delete) until
 * {@link Party.leave}.
 *
 * **Sessions.** While `suspended`, {@link Party.members} waits for the connection like any read;
 * after `lost`, the member's node is created again as soon as the new session is up.
 *
 * @example
 * ```ts
 * import { Party } from '@zkit/group';
 *
 * const party = new Party(client, '/parties/crawlers', 'host-a');
 * await party.join();
 * console.log(await party.members()); // ['host-a', …]
 * await party.leave();
 * ```
 */
export class Party {
  /** The client (borrowed, never closed here). */
  readonly client: ZkClient;
  /** The parent of the members' nodes. */
  readonly path: string;
  /** This member's identifier. */
  readonly identifier: string;
  /** Whether the layout is kazoo's `ShallowParty`. */
  readonly shallow: boolean;
  /** This member's node name (fixed for the life of the object). */
  readonly node: string;
  #member: PersistentNode | undefined;
  #closed = false;

  /**
   * @throws `InvalidPathError`, `InvalidArgumentError` before any request (a shallow
   *   identifier must fit in a node name: no `/`)
   */
  constructor(client: ZkClient, path: string, identifier = '', options: PartyOptions = {}) {
    checkClient(client);
    validatePath(path);
    if (typeof identifier !== 'string')
      throw new InvalidArgumentError('identifier must be a string');
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options must be an object');
    }
    if (options.shallow !== undefined && typeof options.shallow !== 'boolean') {
      throw new InvalidArgumentError('shallow must be a boolean');
    }
    this.client = client;
    this.path = path;
    this.identifier = identifier;
    this.shallow = options.shallow ?? false;
    const hex = randomUUID().replaceAll('-', '');
    this.node = this.shallow ? `${hex}-${identifier}` : `${hex}${PARTY_MARK}`;
    validateName(this.node);
    validatePath(join(path, this.node));
    if (!this.shallow && Buffer.byteLength(identifier) > client.maxDataBytes) {
      throw new InvalidArgumentError('identifier is larger than the client accepts as data');
    }
  }

  /** Whether {@link Party.join} was called and {@link Party.leave} not yet. */
  get participating(): boolean {
    return this.#member !== undefined;
  }

  /**
   * Joins: resolves once this member's node exists. Joining again is a no-op.
   *
   * @throws {@link GroupClosedError} after {@link Party.close} (after {@link Party.leave} a party
   *   can be joined again); an error that waiting does not fix, such as `NoAuthError` (then the
   *   member stops trying); the signal's reason on abort, a `TimeoutError` on timeout (then the
   *   member keeps trying to join until {@link Party.leave})
   */
  async join(options: WaitOptions = {}): Promise<void> {
    const signal = waitSignal(`Party ${this.path}: not joined`, options);
    if (this.#closed) throw new GroupClosedError(this.path);
    let member = this.#member;
    if (!member) {
      member = new PersistentNode(
        this.client,
        join(this.path, this.node),
        this.shallow ? '' : this.identifier,
        { parents: 'persistent' },
      );
      this.#member = member;
      member.start();
    }
    const joining = member;
    let refused: ((error: unknown) => void) | undefined;
    const failed = new Promise<never>((_, reject) => (refused = reject));
    const onFailure = (error: unknown) => refused?.(error);
    joining.once('failure', onFailure);
    try {
      await Promise.race([joining.whenCreated(signal ? { signal } : {}), failed]);
    } catch (error) {
      // Refused for good (e.g. no permission): stop trying rather than retry in the background.
      if (!signal?.aborted && this.#member === joining) {
        this.#member = undefined;
        await joining.close();
      }
      throw error;
    } finally {
      joining.off('failure', onFailure);
    }
  }

  /** Leaves: deletes this member's node (a guaranteed delete). A no-op when not joined. */
  async leave(): Promise<void> {
    const member = this.#member;
    this.#member = undefined;
    await member?.close();
  }

  /**
   * The identifiers of the members present now, sorted, one per member node (as kazoo lists
   * them: nodes of the other layout under the same path are not counted).
   *
   * @throws core's connection errors; the signal's reason on abort, a `TimeoutError` on timeout
   */
  async members(options: WaitOptions = {}): Promise<string[]> {
    const signal = waitSignal(`Party ${this.path}: members not read`, options);
    const read = signal ? { signal } : {};
    try {
      if (this.shallow) {
        const children = await this.client.getChildren(this.path, read);
        return children
          .filter((c) => c.includes('-'))
          .map((c) => c.slice(c.indexOf('-') + 1))
          .sort();
      }
      const children = await getChildrenData(this.client, this.path, read);
      return children
        .filter((c) => c.name.includes(PARTY_MARK))
        .map((c) => c.data.toString('utf8'))
        .sort();
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  /** Leaves and refuses further joins. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.leave();
  }

  /** Same as {@link Party.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
