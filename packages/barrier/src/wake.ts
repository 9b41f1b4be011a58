import {
  aboutToBlock,
  InvalidPathError,
  validatePath,
  type ConnectionState,
  type ZkClient,
  checkClient,
} from '@zkit/core';

/**
 * Checks a barrier's constructor arguments before anything is sent.
 *
 * @internal
 */
export function checkBarrierArgs(client: unknown, path: unknown): string {
  checkClient(client);
  const valid = validatePath(path);
  if (valid === '/') {
    throw new InvalidPathError(path, 'a barrier needs a node of its own, not the root');
  }
  return valid;
}

/**
 * Resolves on the first reason to look at the barrier again: the watch settled (fired, or was
 * rejected because the session went away), or the client reported `reconnected`, `lost` or
 * `closed` (a reconnect may hide a change the watch missed). Rejects with the signal's reason on
 * abort. Every wake-up is only a hint: the caller re-reads before deciding anything.
 *
 * @internal
 */
export function wake(
  client: ZkClient,
  changed: Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      client.off('state', onState);
      signal?.removeEventListener('abort', onAbort);
    };
    const onState = (now: ConnectionState) => {
      if (now === 'reconnected' || now === 'lost' || now === 'closed') {
        done();
        resolve();
      }
    };
    const onAbort = () => {
      done();
      reject(signal?.reason);
    };
    try {
      // A `timeout: 0` wait ends here, having looked once.
      aboutToBlock(signal);
    } catch (error) {
      reject(error);
      return;
    }
    client.on('state', onState);
    signal?.addEventListener('abort', onAbort, { once: true });
    changed.then(
      () => {
        done();
        resolve();
      },
      () => {
        done();
        resolve();
      },
    );
  });
}
