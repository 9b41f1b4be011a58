/**
 * Errors raised by `@zkit/registry`. Invalid input is reported with `@zkit/core`'s own
 * `InvalidPathError` and `InvalidArgumentError`; errors from the server keep their core classes.
 *
 * @module
 */
import { ZkError } from '@zkit/core';

/**
 * An instance id is already registered by a session this registry does not know (another
 * process, or another registry in this one). Nothing was written. Pass `takeover: true` to
 * `register()` to replace the other owner's node instead. Code `'REGISTRY_DUPLICATE_ID'`.
 *
 * @example
 * ```ts
 * try {
 *   await registry.register({ name: 'api', id: 'api-1', address: '10.0.0.5', port: 8080 });
 * } catch (error) {
 *   if (error instanceof DuplicateInstanceError) log.warn(`api-1 belongs to ${error.owner}`);
 *   else throw error;
 * }
 * ```
 */
export class DuplicateInstanceError extends ZkError {
  /** Session id (hex) that owns the existing node, `'0'` for a persistent node. */
  readonly owner: string;

  constructor(path: string, owner: string) {
    super('REGISTRY_DUPLICATE_ID', 0, `instance already registered by session ${owner}`, {
      path,
    });
    this.owner = owner;
  }
}

/**
 * An instance node whose data is not a readable service instance (not JSON, not an object, or
 * missing `name` / `id`, or naming another id than its node). Readers skip such a node and report
 * it through the `quarantined` event; it never fails a whole query. Code
 * `'REGISTRY_MALFORMED_INSTANCE'`.
 *
 * @example
 * ```ts
 * registry.on('quarantined', (error: MalformedInstanceError) => log.warn(error.path, error.message));
 * ```
 */
export class MalformedInstanceError extends ZkError {
  constructor(path: string, reason: string, cause?: unknown) {
    super('REGISTRY_MALFORMED_INSTANCE', 0, `malformed service instance: ${reason}`, {
      path,
      cause,
    });
  }
}

/**
 * The registry, cache or provider was closed (by its `close()`, or because its client was
 * closed). Code `'REGISTRY_CLOSED'`.
 *
 * @example
 * ```ts
 * await registry.close();
 * await registry.register({ name: 'api' }); // rejects with RegistryClosedError
 * ```
 */
export class RegistryClosedError extends ZkError {
  constructor(path: string, cause?: unknown) {
    super('REGISTRY_CLOSED', 0, 'the service registry is closed', { path, cause });
  }
}

/**
 * `update()` or `unregister()` named an id this registry has not registered. Code
 * `'REGISTRY_NOT_REGISTERED'`.
 *
 * @example
 * ```ts
 * await registry.update({ ...instance, port: 9090 }); // rejects unless `instance` was registered here
 * ```
 */
export class NotRegisteredError extends ZkError {
  constructor(path: string) {
    super('REGISTRY_NOT_REGISTERED', 0, 'the instance is not registered by this registry', {
      path,
    });
  }
}
