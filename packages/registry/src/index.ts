/**
 * `@zkit/registry` — service registration and discovery on ZooKeeper in Apache Curator's
 * `curator-x-discovery` layout: {@link ServiceRegistry} (register, query), {@link ServiceCache}
 * (a live view with typed diffs) and {@link ServiceProvider} (pick an instance by strategy).
 *
 * @packageDocumentation
 */
export { ServiceRegistry } from './service-registry.js';
export type {
  RegisterOptions,
  Registration,
  ServiceRegistryEvents,
  ServiceRegistryOptions,
} from './service-registry.js';
export { ServiceCache } from './service-cache.js';
export type { CacheChange, ServiceCacheEvents, ServiceCacheOptions } from './service-cache.js';
export { ServiceProvider } from './service-provider.js';
export type {
  DownInstancePolicy,
  ProviderStrategy,
  ServiceProviderEvents,
  ServiceProviderOptions,
} from './service-provider.js';
export type { InstanceInput, ServiceInstance, ServiceType } from './instance.js';
export { buildUri, parseUriSpec } from './uri-spec.js';
export type { UriSource, UriSpec, UriSpecPart } from './uri-spec.js';
export {
  DuplicateInstanceError,
  MalformedInstanceError,
  NotRegisteredError,
  RegistryClosedError,
} from './errors.js';
