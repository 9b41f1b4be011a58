import {
  Emitter,
  InvalidArgumentError,
  PersistentNode,
  join,
  validateName,
  validatePath,
  waitSignal,
  type Data,
  type ListenerError,
  type WaitOptions,
  type ZkClient,
  checkClient,
  defaultNodeData,
} from '@zkit/core';
import { ChildrenView, type ViewChange } from './children-view.js';
import { GroupClosedError } from './errors.js';

/**
 * Typed events of {@link GroupMember}.
 *
 * @example
 * ```ts
 * member.on('joined', (id, payload) => console.log(`${id} joined with ${payload.toString()}`));
 * member.on('left', (id) => console.log(`${id} left`));
 * ```
 */
export interface GroupMemberEvents {
  /** A member appeared (reported for every member present at start too). */
  joined: [id: string, payload: Buffer];
  /** A member's payload changed. */
  updated: [id: string, payload: Buffer];
  /** A member's node disappeared. */
  left: [id: string];
  /**
   * Reading the group failed for a reason that waiting for the connection does not fix (e.g.
   * `NoAuthError`); the view keeps trying with a growing pause.
   */
  failure: [error: unknown];
  /** A listener of this member threw or rejected; it changed nothing (see `Emitter`). */
  error: [error: ListenerError];
}

/**
 * One member of a group, in Apache Curator's `GroupMember` layout: every member is an ephemeral
 * node `membershipPath/<memberId>` holding its payload, under container parents. A Curator
 * `GroupMember` on the same path sees zkit members, and the other way round.
 *
 * {@link GroupMember.start} joins: the member's node is a core `PersistentNode`, so it is
 * created again after a lost session or after someone deletes it, and {@link GroupMember.close}
 * leaves (deletes it). The other members are watched: {@link GroupMember.members} is the
 * current view, with `joined` / `updated` / `left` events as it changes.
 *
 * **Sessions.** While `suspended`, the view keeps its last state. After a reconnect to the same
 * session nothing is rewritten; after `lost` the node is created again under the new session
 * and the view is read again in full. Member ids must be unique: a member whose id another
 * live session holds waits, without joining, until that node disappears.
 *
 * @example
 * ```ts
 * import { GroupMember } from '@zkit/group';
 *
 * const member = new GroupMember(client, '/groups/workers', 'worker-1', 'http://10.0.0.5:8080');
 * await member.start();
 * for (const [id, payload] of member.members()) console.log(id, payload.toString());
 * await member.close();
 * ```
 */
export class GroupMember extends Emitter<GroupMemberEvents> {
  /** The client (borrowed, never closed here). */
  readonly client: ZkClient;
  /** The parent of the members' nodes. */
  readonly membershipPath: string;
  /** This member's id: the name of its node. */
  readonly id: string;
  readonly #node: PersistentNode;
  readonly #view: ChildrenView;
  #state: 'latent' | 'started' | 'closed' = 'latent';

  /**
   * @param payload - this member's data (default: `defaultNodeData()`, the local address, as
   *   Curator's `GroupMember` stores when given none)
   * @throws `InvalidPathError`, `InvalidArgumentError`, `DataTooLargeError` before any request
   */
  constructor(
    client: ZkClient,
    membershipPath: string,
    memberId: string,
    payload: Data = defaultNodeData(),
  ) {
    super();
    checkClient(client);
    validatePath(membershipPath);
    if (typeof memberId !== 'string') throw new InvalidArgumentError('memberId must be a string');
    validateName(memberId);
    this.client = client;
    this.membershipPath = membershipPath;
    this.id = memberId;
    this.#node = new PersistentNode(client, join(membershipPath, memberId), payload);
    this.#node.on('failure', (error) => this.emit('failure', error));
    this.#view = new ChildrenView(
      client,
      membershipPath,
      true,
      (change) => this.#report(change),
      (error) => this.emit('failure', error),
    );
  }

  /**
   * Joins the group and starts watching it. Resolves once this member's node exists and the
   * group has been read once.
   *
   * @throws {@link GroupClosedError}, `InvalidArgumentError` when started twice, the signal's
   *   reason on abort, a `TimeoutError` on timeout (the member keeps trying to join)
   */
  async start(options: WaitOptions = {}): Promise<void> {
    const signal = waitSignal(`GroupMember ${this.membershipPath}/${this.id}: not joined`, options);
    if (this.#state === 'closed') throw new GroupClosedError(this.membershipPath);
    if (this.#state === 'started') throw new InvalidArgumentError('already started');
    this.#state = 'started';
    this.#node.start();
    this.#view.start();
    await this.#node.whenCreated(signal ? { signal } : {});
    // A read that includes our own node, so that `members()` is complete from here on.
    await this.#view.refreshed(signal);
  }

  /**
   * The members as last seen, id → payload. This member is always included with its own
   * current payload (as in Curator), also while its node is being created again.
   */
  members(): Map<string, Buffer> {
    const members = this.#view.snapshot();
    if (this.#state !== 'closed') members.set(this.id, this.#node.data);
    return members;
  }

  /**
   * Replaces this member's payload (Curator's `setThisData`): written now when the node exists,
   * and kept for every re-creation.
   *
   * @throws `DataTooLargeError` before any request, {@link GroupClosedError}, core's connection
   *   errors
   */
  async setPayload(payload: Data, options: WaitOptions = {}): Promise<void> {
    if (this.#state === 'closed') throw new GroupClosedError(this.membershipPath);
    await this.#node.setData(payload, options);
  }

  /** Leaves the group (deletes this member's node) and stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await Promise.all([this.#node.close(), this.#view.close()]);
  }

  /** Same as {@link GroupMember.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #report(change: ViewChange): void {
    for (const [id, payload] of change.added) this.emit('joined', id, payload);
    for (const [id, payload] of change.updated) this.emit('updated', id, payload);
    for (const id of change.removed.keys()) this.emit('left', id);
  }
}
