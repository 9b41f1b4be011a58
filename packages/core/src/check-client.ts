import type { ZkClient } from './client.js';
import { InvalidArgumentError } from './errors.js';

/**
 * Checks, before anything is sent, that a recipe was given a `ZkClient`. By its shape rather than
 * `instanceof`, so that a client from another copy of `@zkit/core` in the same application (two
 * versions installed side by side) is accepted.
 *
 * @example
 * ```ts
 * constructor(client: ZkClient, path: string) {
 *   checkClient(client);
 *   this.path = validatePath(path);
 * }
 * ```
 * @throws {@link InvalidArgumentError} when `client` is not a `ZkClient`
 */
export function checkClient(client: unknown): asserts client is ZkClient {
  const c = client as Partial<ZkClient> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.getChildren !== 'function' ||
    typeof c.createProtected !== 'function'
  ) {
    throw new InvalidArgumentError('client must be a ZkClient from @zkit/core');
  }
}
