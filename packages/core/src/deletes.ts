/**
 * Deletes: one delete that never claims a removal it cannot know of, the recursive delete, and
 * the guaranteed delete that keeps trying across reconnects (with the list of those pending).
 *
 * @internal
 * @module
 */
import {
  ClientClosedError,
  InvalidPathError,
  NoNodeError,
  SessionExpiredError,
  ThrottledError,
  UnknownOutcomeError,
  isRetryable,
} from './errors.js';
import type { Emitter } from './emitter.js';
import type { Executor } from './executor.js';
import {
  validVersion,
  type ReadOptions,
  type VersionOptions,
  type ZkClientEvents,
} from './options.js';
import { join, validatePath } from './paths.js';
import type { SessionState } from './session-state.js';

/** The client as deletes see it: its state events and its listing. */
export interface DeletesClient extends Emitter<ZkClientEvents> {
  getChildren(path: string, options?: ReadOptions): Promise<string[]>;
}

/** The deletes of one client. */
export class Deletes {
  readonly #client: DeletesClient;
  readonly #session: SessionState;
  readonly #exec: Executor;
  /** Guaranteed deletes in progress, by path. */
  readonly #pending = new Map<string, { ephemeral: boolean }>();

  constructor(client: DeletesClient, session: SessionState, executor: Executor) {
    this.#client = client;
    this.#session = session;
    this.#exec = executor;
  }

  /** Number of guaranteed deletes still pending. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The session was lost: its ephemerals are gone, so guaranteed deletes of them are moot. */
  sessionLost(): void {
    for (const [path, { ephemeral }] of this.#pending) {
      if (ephemeral) this.#pending.delete(path);
    }
  }

  /** The client closed. */
  closed(): void {
    this.#pending.clear();
  }

  async delete(path: string, options: VersionOptions = {}): Promise<void> {
    validatePath(path);
    const version = validVersion(options.version);
    const full = this.#exec.abs(path);
    // The error of an earlier attempt that may have removed the node before its reply was lost.
    // Only attempts handed to the transport count: one that found no connection within
    // connectTimeout never left the client. The native client queues a request made while it is
    // reconnecting and sends it once a connection is up, so a request that failed with a
    // connection loss may have reached the server whatever the state when it was made. A
    // throttled request was refused before it was applied.
    let unsure: unknown;
    await this.#exec.exec('delete', path, options.signal, true, async (t) => {
      try {
        await t.delete(full, version);
      } catch (error) {
        if (unsure !== undefined && error instanceof NoNodeError) {
          throw new UnknownOutcomeError({ path: full, cause: unsure });
        }
        if (isRetryable(error) && !(error instanceof ThrottledError)) unsure ??= error;
        throw error;
      }
    });
  }

  async deleteRecursive(path: string, options: ReadOptions = {}): Promise<void> {
    validatePath(path);
    if (path === '/') throw new InvalidPathError(path, 'refusing to delete the root');
    let children: string[];
    try {
      children = await this.#client.getChildren(path, options);
    } catch (error) {
      if (error instanceof NoNodeError) return;
      throw error;
    }
    await Promise.all(children.map((c) => this.deleteRecursive(join(path, c), options)));
    try {
      await this.delete(path, options);
    } catch (error) {
      // Gone either way, by this call or another (UnknownOutcomeError is a NoNodeError).
      if (!(error instanceof NoNodeError)) throw error;
    }
  }

  async deleteGuaranteed(path: string, options: { ephemeral?: boolean } = {}): Promise<void> {
    validatePath(path);
    const session = this.#session;
    const ephemeral = options.ephemeral ?? false;
    this.#pending.set(path, { ephemeral });
    const sessionAtStart = session.sessionId;
    // The usual case first, with nothing to set up: connected, one attempt. Only a failure that
    // may be retried goes on to the loop below, which follows the session.
    if (session.isConnected) {
      try {
        await this.#deleteOnce(path);
        this.#pending.delete(path);
        return;
      } catch (error) {
        if (
          error instanceof NoNodeError ||
          (!isRetryable(error) && !(error instanceof SessionExpiredError))
        ) {
          this.#pending.delete(path);
          if (error instanceof NoNodeError) return;
          throw error;
        }
      }
    }
    return this.#deleteUntilGone(path, ephemeral, sessionAtStart);
  }

  /** One delete attempt, not retried: `deleteGuaranteed`'s loop decides what comes next. */
  #deleteOnce(path: string): Promise<void> {
    const full = this.#exec.abs(path);
    return this.#exec.exec('delete', path, undefined, false, (t) => t.delete(full, -1));
  }

  async #deleteUntilGone(
    path: string,
    ephemeral: boolean,
    sessionAtStart: string | undefined,
  ): Promise<void> {
    const session = this.#session;
    // An ephemeral node dies with its session: once that session is lost there is nothing to do.
    const sessionGone = () =>
      ephemeral && (session.state === 'lost' || session.sessionId !== sessionAtStart);
    // Abandon a request still waiting for a connection as soon as the session is lost.
    const abandon = new AbortController();
    const onState = () => {
      if (sessionGone()) abandon.abort(new SessionExpiredError({ path }));
    };
    if (ephemeral) this.#client.on('state', onState);
    try {
      for (;;) {
        if (session.state === 'closed') throw new ClientClosedError({ path });
        if (sessionGone()) return;
        try {
          await this.delete(path, ephemeral ? { signal: abandon.signal } : {});
          return;
        } catch (error) {
          if (sessionGone()) return;
          // Gone is done, whoever removed it (UnknownOutcomeError is a NoNodeError).
          if (error instanceof NoNodeError) return;
          if (error instanceof SessionExpiredError && ephemeral) return;
          if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
          // However long the outage: only close ends the wait.
          await session.waitForState(
            () => session.isConnected || sessionGone(),
            undefined,
            false,
            false,
          );
        }
      }
    } finally {
      this.#client.off('state', onState);
      this.#pending.delete(path);
    }
  }
}
