/**
 * `@zkit/registry` — service registration and discovery on ZooKeeper in Apache Curator's
 * `curator-x-discovery` layout: {@link ServiceRegistry} (register, query), {@link ServiceCache}
 * (a live view with typed diffs) and {@link ServiceProvider} (pick an instance by strategy).
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { ServiceRegistry } from './service-registry.js';
export { looksLikeServiceInstance } from './recognize.js';
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
