import { SessionExpiredError, ZkClient, type ConnectionState } from '@zkit/core';
import { SessionNotExpiredError } from './errors.js';
import { settlesWithin } from './sleep.js';

/** Options of {@link expireSession}. */
export interface ExpireSessionOptions {
  /**
   * Give up after this many milliseconds (default: twice the session timeout, at least 10 s).
   */
  timeout?: number;
  /**
   * Where the twin handle connects (default: the client's own connect string). Set it to the
   * server's address when the client goes through a partitioned `FaultProxy`.
   */
  connectString?: string;
}

/**
 * Expires a live client's session for real, on the server: its ephemeral nodes are deleted and
 * its watches dropped, exactly as after a long network partition, but in about a second.
 *
 * How: a second ("twin") handle attaches to the same session with the client's session id and
 * password, then closes it, which ends the session on the server. One such close is racy: the
 * client may win the session back before the close arrives, and the session survives. So this
 * repeats until the client itself reports `lost`, and resolves only once it has.
 *
 * What the client does next is its own business; a `@zkit/core` client opens a new session and
 * reports `reconnected`.
 *
 * @throws {@link SessionNotExpiredError} when the client has not reported `lost` within
 *   `timeout`; `ConnectionLossError` when the client has no session to expire.
 * @example
 * ```ts
 * const before = client.sessionId;
 * await expireSession(client);
 * await waitFor(() => client.state === 'reconnected');
 * expect(client.sessionId).not.toBe(before);
 * ```
 */
export async function expireSession(
  client: ZkClient,
  options: ExpireSessionOptions = {},
): Promise<void> {
  const credentials = client.sessionCredentials();
  const sessionTimeout = client.sessionTimeout;
  const timeout = options.timeout ?? Math.max(10_000, 2 * sessionTimeout);
  const connectString = options.connectString ?? client.connectString;
  const deadline = Date.now() + timeout;
  let lost = false;
  let onState: (now: ConnectionState) => void = () => undefined;
  const reportedLost = new Promise<void>((resolve) => {
    onState = (now) => {
      if (now !== 'lost') return;
      lost = true;
      resolve();
    };
  });
  client.on('state', onState);
  try {
    let attempts = 0;
    let lastError: unknown;
    while (!lost) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new SessionNotExpiredError(
          `Session 0x${credentials.id} was not reported lost within ${timeout} ms ` +
            `(${attempts} twin handles; client state '${client.state}')`,
          lastError === undefined ? undefined : { cause: lastError },
        );
      }
      attempts += 1;
      const twin = new ZkClient(connectString, {
        sessionTimeout,
        session: credentials,
        retry: { retries: 0 },
      });
      try {
        await twin.start({ timeout: left });
        lastError = undefined;
      } catch (error) {
        // SessionExpiredError: an earlier close already won and the client has not heard yet.
        // Anything else (no connection in time) is retried until the deadline.
        lastError = error instanceof SessionExpiredError ? undefined : error;
      } finally {
        await twin.close();
      }
      // The client learns of the expiry at its next reconnect attempt, which the native client
      // makes about every third of the session timeout.
      await settlesWithin(
        reportedLost,
        Math.min(sessionTimeout / 3 + 500, Math.max(0, deadline - Date.now())),
      );
    }
  } finally {
    client.off('state', onState);
  }
}
