/**
 * Request execution: the namespace applied to paths, the size checks made before sending, one
 * request under the retry policy (waiting for a connection when there is none), and the
 * translation of the transport's errors.
 *
 * @internal
 * @module
 */
import diagnostics from 'node:diagnostics_channel';
import pRetry from 'p-retry';
import type { Transport } from './binding.js';
import {
  ClientClosedError,
  ClientNotStartedError,
  ConnectionLossError,
  DataTooLargeError,
  InvalidArgumentError,
  RequestRefusedError,
  RequestTooLargeError,
  SessionExpiredError,
  ZkError,
  isRetryable,
} from './errors.js';
import { pathFrameBytes } from './frame-size.js';
import type { Data, ResolvedOptions } from './options.js';
import type { SessionState } from './session-state.js';
import { raceSignal } from './signals.js';

const ZCLOSING = -116;
const ZINVALIDSTATE = -9;
const ZMARSHALLINGERROR = -5;
/** Connection drops with one request in flight after which it is not sent again. */
const MAX_DROPS_PER_REQUEST = 3;

/**
 * Errors of requests served over the extra connection rather than the transport: their connection
 * losses must not suspend the client.
 */
export const notFromTransport = new WeakSet<ZkError>();

const opChannel = diagnostics.channel('zkit:op');

/** Runs one client's requests. */
export class Executor {
  readonly #client: object;
  readonly #session: SessionState;
  readonly #options: ResolvedOptions;

  /** @param client - the client named in `zkit:op` messages */
  constructor(client: object, session: SessionState, options: ResolvedOptions) {
    this.#client = client;
    this.#session = session;
    this.#options = options;
  }

  /** One request with the retry policy. The fast path (connected, first attempt) adds no awaits. */
  exec<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    retry: boolean,
    fn: (t: Transport) => Promise<T>,
  ): Promise<T> {
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new InvalidArgumentError('signal must be an AbortSignal'));
    }
    // Fast path: connected, nobody listening. One promise chain, raced with the signal when
    // there is one, no extra async frames; only a failure takes the full path below.
    const transport = this.#session.transport;
    if (transport && this.#session.isConnected && !opChannel.hasSubscribers) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const pending = fn(transport).catch((error: unknown) => {
        const translated = this.#translate(error, transport);
        if (!retry || !isRetryable(translated)) throw translated;
        const dropped =
          translated instanceof ConnectionLossError && !notFromTransport.has(translated) ? 1 : 0;
        return this.#execSlow(op, path, signal, retry, fn, { error: translated, dropped });
      });
      return signal ? raceSignal(pending, signal) : pending;
    }
    return this.#execSlow(op, path, signal, retry, fn);
  }

  /**
   * @param first - the fast path's failed first attempt, when there was one: its error, and
   *   whether the connection dropped with it in flight (1) or not (0)
   */
  async #execSlow<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    retry: boolean,
    fn: (t: Transport) => Promise<T>,
    first?: { error: unknown; dropped: number },
  ): Promise<T> {
    signal?.throwIfAborted();
    const started = opChannel.hasSubscribers ? performance.now() : 0;
    // A request the server drops the connection for would be dropped again at every retry, and
    // each drop suspends the whole client: after a few in a row, stop sending it.
    let drops = first?.dropped ?? 0;
    const attempt = async () => {
      try {
        return await this.#attempt(fn, signal, () => drops++);
      } catch (error) {
        if (drops >= MAX_DROPS_PER_REQUEST && error instanceof ConnectionLossError) {
          throw new RequestRefusedError(drops, { path, cause: error });
        }
        throw error;
      }
    };
    const session = this.#session;
    try {
      let result: T;
      try {
        if (first) throw first.error;
        result = await attempt();
      } catch (error) {
        if (!retry || !isRetryable(error)) throw error;
        const policy = this.#options.retry;
        // `retries` counts the attempts after the first one, which has just failed.
        if (policy.retries < 1) throw error;
        result = await pRetry(attempt, {
          retries: policy.retries - 1,
          minTimeout: policy.minTimeout,
          maxTimeout: policy.maxTimeout,
          factor: policy.factor,
          randomize: policy.randomize,
          ...(signal ? { signal } : {}),
          shouldRetry: ({ error: e }) => isRetryable(e),
          onFailedAttempt: async ({ error: e, retriesLeft }) => {
            if (isRetryable(e) && retriesLeft > 0 && !session.isConnected) {
              await session
                .waitForState(() => session.isConnected, signal, false)
                .catch((waitError: unknown) => {
                  if (!(waitError instanceof ConnectionLossError)) throw waitError;
                });
            }
          },
        });
      }
      if (started)
        opChannel.publish({
          client: this.#client,
          op,
          path,
          durationMs: performance.now() - started,
        });
      return result;
    } catch (error) {
      if (started) {
        opChannel.publish({
          client: this.#client,
          op,
          path,
          durationMs: performance.now() - started,
          error,
        });
      }
      throw error;
    }
  }

  /**
   * One attempt, once connected. `onDrop` is called when the request was sent on a live
   * connection and failed because that connection dropped.
   */
  async #attempt<T>(
    fn: (t: Transport) => Promise<T>,
    signal: AbortSignal | undefined,
    onDrop?: () => void,
  ): Promise<T> {
    const session = this.#session;
    if (session.state === 'closed') throw new ClientClosedError();
    if (session.state === 'latent') throw new ClientNotStartedError();
    if (!session.isConnected) await session.waitForState(() => session.isConnected, signal, false);
    const transport = session.transport;
    if (!transport) throw new ClientClosedError();
    try {
      const pending = fn(transport);
      return await (signal ? raceSignal(pending, signal) : pending);
    } catch (error) {
      const translated = this.#translate(error, transport);
      if (translated instanceof ConnectionLossError && !notFromTransport.has(translated)) {
        onDrop?.();
      }
      throw translated;
    }
  }

  #translate(error: unknown, transport: Transport): unknown {
    if (!(error instanceof ZkError)) return error;
    const rc = error.rc;
    if (rc === ZCLOSING || rc === ZINVALIDSTATE || rc === ZMARSHALLINGERROR) {
      // The handle closed under the request: because we closed, or because its session ended.
      return this.#session.state === 'closed'
        ? new ClientClosedError({ path: error.path, cause: error })
        : new SessionExpiredError({ path: error.path, cause: error });
    }
    if (
      isRetryable(error) &&
      this.#session.transport === transport &&
      !notFromTransport.has(error)
    ) {
      this.#session.onSuspect();
    }
    return error;
  }

  // ---------------------------------------------------------------------------------------------
  // Input

  /** The path as the server's requests name it below the chroot; checks the request's size. */
  abs(path: string): string {
    const ns = this.#options.namespace;
    const full = ns === '' ? path : path === '/' ? ns : ns + path;
    this.checkFrame(pathFrameBytes(this.#options.chroot + full), path);
    return full;
  }

  /** Refuses a request the server would drop the connection for (see `maxFrameBytes`). */
  checkFrame(size: number, path: string): void {
    const limit = this.#options.maxFrameBytes;
    if (size > limit) {
      throw new RequestTooLargeError(size, limit, path === '' ? {} : { path: truncate(path) });
    }
  }

  /** A path the server returned, without the namespace. */
  rel(path: string): string {
    const ns = this.#options.namespace;
    if (ns === '' || !path.startsWith(ns)) return path;
    const rest = path.slice(ns.length);
    return rest === '' ? '/' : rest;
  }

  toBuffer(data: Data | undefined, path: string): Buffer {
    let buffer: Buffer;
    if (data === undefined) buffer = Buffer.alloc(0);
    else if (typeof data === 'string') buffer = Buffer.from(data, 'utf8');
    else if (data instanceof Uint8Array) {
      buffer = Buffer.isBuffer(data)
        ? data
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    } else {
      throw new InvalidArgumentError('data must be a Uint8Array, a Buffer or a string');
    }
    if (buffer.length > this.#options.maxDataBytes) {
      throw new DataTooLargeError(buffer.length, this.#options.maxDataBytes, { path });
    }
    return buffer;
  }
}

/** A path short enough to print in an error message. */
function truncate(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 200)}… (${path.length} characters)`;
}
