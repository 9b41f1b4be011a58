/**
 * `@zkit/testing` — real ZooKeeper servers and ensembles for tests, network faults through a
 * TCP proxy, and real session expiry. The vitest integration lives in the subpath exports
 * `@zkit/testing/vitest-setup` (global setup) and `@zkit/testing/vitest` (the `zk` fixture).
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export {
  FourLetterWordError,
  JavaNotFoundError,
  MisnamedVariableError,
  ServerNotRunningError,
  ServerStartError,
  SessionNotExpiredError,
  TestingError,
  WaitTimeoutError,
  ZooKeeperNotFoundError,
} from './errors.js';
export type { TestingErrorCode } from './errors.js';
export { fourLetterWord, parseMntr } from './four-letter-word.js';
export { recordListenerErrors } from './listener-errors.js';
export type { ListenerErrorRecorder } from './listener-errors.js';
export type { FourLetterWordOptions } from './four-letter-word.js';
export { externalConnectString, locateZooKeeper } from './locate.js';
export type { LocateOptions, ZooKeeperInstallation } from './locate.js';
export type { ServerOptions } from './server-config.js';
export { waitFor } from './wait-for.js';
export type { WaitForOptions } from './wait-for.js';
export { ZooKeeperServer } from './zookeeper-server.js';
export { TestCertificates } from './certificates.js';
export type { IssuedCertificate } from './certificates.js';
export type { ServerState, ZooKeeperServerOptions } from './zookeeper-server.js';
export { ZooKeeperEnsemble } from './zookeeper-ensemble.js';
export type { ZooKeeperEnsembleOptions } from './zookeeper-ensemble.js';
export { FaultProxy } from './fault-proxy.js';
export type { FaultProxyOptions } from './fault-proxy.js';
export { expireSession } from './expire-session.js';
export type { ExpireSessionOptions } from './expire-session.js';
export { LeakProbe, probeIterables } from './leak-probe.js';
export type { LeakReport, ProbeIterablesOptions } from './leak-probe.js';
