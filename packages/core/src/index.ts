/**
 * `@zkit/core` — the session-aware ZooKeeper client every zkit recipe stands on.
 *
 * @packageDocumentation
 */
// The declarations of this package name Node's types (AbortSignal, Buffer) and explicit resource
// management (Symbol.asyncDispose). `preserve` keeps these directives in the emitted .d.ts, so a
// program compiled with `types: []` (TypeScript 6's default) or a `lib` without
// esnext.disposable still finds both; @types/node is a peer dependency for this reason.
/// <reference types="node" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />
export { ZkClient } from './client.js';
export type {
  AuthInfo,
  ChildrenSnapshot,
  ConnectionState,
  CreateMode,
  CreateOptions,
  Data,
  DataSnapshot,
  ErrorPolicy,
  OpMessage,
  ReadOptions,
  RetryPolicy,
  StateMessage,
  WatchedReadOptions,
  TransportKind,
  SaslOptions,
  VersionOptions,
  Watched,
  ZkClientEvents,
  ZkClientOptions,
} from './client.js';
export { Transaction, TransactionError } from './transaction.js';
export type {
  CheckResult,
  CreateResult,
  CreateStatResult,
  DeleteResult,
  OperationResult,
  SetResult,
  TransactionCreateOptions,
  TransactionCreateStatOptions,
  TransactionData,
  TransactionOp,
  TransactionProtectedOptions,
} from './transaction.js';
export type { RemoveWatchesOptions } from './watch-removal.js';
export type { WatchKind } from './transport.js';
export { Perms } from './binding.js';
export type { Acl } from './binding.js';
export type { Stat } from './stat.js';
export type { NodeEvent, NodeEventType } from './watches.js';
export {
  AuthFailedError,
  BadArgumentsError,
  BadVersionError,
  ClientClosedError,
  ClientNotStartedError,
  ConnectionLossError,
  DataTooLargeError,
  InvalidAclError,
  InvalidArgumentError,
  ChrootMissingError,
  ConnectTimeoutError,
  ZkTimeoutError,
  InvalidPathError,
  NativeBindingMissingError,
  NativeBindingUnsafeError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  NoWatcherError,
  NotReadOnlyError,
  OperationTimeoutError,
  ProtocolError,
  RequestRefusedError,
  RequestTooLargeError,
  SessionExpiredError,
  SessionMovedError,
  ThrottledError,
  TlsError,
  UnimplementedError,
  UnknownOutcomeError,
  UnknownWriteOutcomeError,
  UnknownZkError,
  ZkError,
  errorFromCode,
  isRetryable,
  timeoutError,
} from './errors.js';
export type { ZkErrorOptions } from './errors.js';
export {
  SEQUENCE_DIGITS,
  ancestors,
  basename,
  join,
  parent,
  sequenceOf,
  validateName,
  validatePath,
} from './paths.js';
export { Line, checkLineArgs, lineKey, sortLine } from './line.js';
export { checkClient } from './check-client.js';
export { sendNow } from './send-now.js';
export { defaultNodeData } from './node-data.js';
export type { LineJoin, LineListing, LineMember, LineNode, LineReadOptions } from './line.js';
export { Emitter, ListenerError, callListener } from './emitter.js';
export type { EmitterOptions, ListenerErrorMessage } from './emitter.js';
export {
  aboutToBlock,
  anySignal,
  attemptSignal,
  combineSignals,
  endWhenSettled,
  delay,
  raceSignal,
  tryOnce,
  validateTimeout,
  waitSignal,
} from './signals.js';
export type { WaitOptions } from './signals.js';
export { PersistentNode, PersistentNodeClosedError } from './persistent-node.js';
export type {
  PersistentNodeEvents,
  PersistentNodeMode,
  PersistentNodeOptions,
} from './persistent-node.js';
export { QueuedIterator } from './queued-iterator.js';
export type { Producer, QueuedIteratorOptions } from './queued-iterator.js';
export { WatchConnection } from './watch-connection.js';
export type {
  ReadResult,
  WatchConnectionEvents,
  WatchConnectionOptions,
  WatchConnectionState,
  WatchEvent,
  WatchMode,
} from './watch-connection.js';
export { getChildrenData, openExtraConnection, watchRecursive } from './recursive-watch.js';
export { getMany, watchesOnOwnSession } from './read-many.js';
export type { NodeData } from './read-many.js';
export type {
  ChildData,
  RecursiveWatch,
  RecursiveWatchEvent,
  RecursiveWatchOptions,
} from './recursive-watch.js';
