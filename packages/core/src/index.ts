/**
 * `@zkit/core` — the session-aware ZooKeeper client every zkit recipe stands on.
 *
 * @packageDocumentation
 */
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
  TransportKind,
  VersionOptions,
  Watched,
  ZkClientEvents,
  ZkClientOptions,
} from './client.js';
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
  InvalidPathError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  OperationTimeoutError,
  ProtocolError,
  SessionExpiredError,
  SessionMovedError,
  ThrottledError,
  UnimplementedError,
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
export { combineSignals, delay, raceSignal, validateTimeout } from './signals.js';
export type { WaitOptions } from './signals.js';
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
export type {
  ChildData,
  RecursiveWatch,
  RecursiveWatchEvent,
  RecursiveWatchOptions,
} from './recursive-watch.js';
