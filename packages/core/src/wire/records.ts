/**
 * ZooKeeper's protocol as data: operation codes, special xids, and every record that the wire
 * transport, and the native transport's extra connection (`watch-connection.ts`), send or read,
 * each described once as a list of typed fields and (de)serialised by the two generic functions
 * below. Field order is the protocol's; names follow the server's record definitions.
 *
 * @internal
 * @module
 */
import { JuteWriter, type JuteReader } from '../jute.js';
import type { Stat } from '../stat.js';
import type { Acl } from '../transport.js';

/** Request types. */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getAcl: 6,
  setAcl: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTtl: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

/** xids the protocol reserves; requests use 1 … 2^31 − 1. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** Return codes the transport itself acts on. */
export const Code = {
  ok: 0,
  connectionLoss: -4,
  marshallingError: -5,
  unimplemented: -6,
  noNode: -101,
  sessionExpired: -112,
  authFailed: -115,
  closing: -116,
  notReadOnly: -119,
} as const;

/** Watch event types carried by a notification. */
export const EventType = {
  none: -1,
  created: 1,
  deleted: 2,
  dataChanged: 3,
  childrenChanged: 4,
  dataWatchRemoved: 5,
  childWatchRemoved: 6,
  persistentWatchRemoved: 7,
} as const;

/** `addWatch` modes. */
export const AddWatchMode = { persistent: 0, persistentRecursive: 1 } as const;

/** `removeWatches` / `checkWatches` watcher types. */
export const WatcherTypeCode = {
  children: 1,
  data: 2,
  any: 3,
} as const;

/** The only protocol version there is. */
export const PROTOCOL_VERSION = 0;

/** ACL the server applies when a create names none of its own: everyone may do everything. */
export const OPEN_ACL: readonly Acl[] = Object.freeze([
  Object.freeze({ perms: 31, scheme: 'world', id: 'anyone' }),
]);

/** Field types of a record. */
type FieldType =
  | 'int'
  | 'long'
  | 'bool'
  | 'buffer'
  | 'string'
  | 'strings'
  | 'acls'
  | 'stat'
  | 'clientInfos'
  | 'raw';

interface FieldValues {
  int: number;
  long: bigint;
  bool: boolean;
  buffer: Buffer;
  string: string;
  strings: readonly string[];
  acls: readonly Acl[];
  stat: Stat;
  clientInfos: { scheme: string; user: string }[];
  /** Writes itself: for records whose shape depends on their content. */
  raw: (w: JuteWriter) => void;
}

/** A record: its fields in wire order. */
export type Schema = readonly (readonly [name: string, type: FieldType])[];

/** The JavaScript shape of a record described by `S`. */
export type RecordOf<S extends Schema> = {
  [F in S[number] as F[0]]: FieldValues[F[1]];
};

function define<const S extends Schema>(schema: S): S {
  return schema;
}

const path = ['path', 'string'] as const;
const stat = ['stat', 'stat'] as const;

/** Every record the transport uses. */
export const Records = {
  ConnectRequest: define([
    ['protocolVersion', 'int'],
    ['lastZxidSeen', 'long'],
    ['timeOut', 'int'],
    ['sessionId', 'long'],
    ['passwd', 'buffer'],
    ['readOnly', 'bool'],
  ]),
  /** Followed by a `readOnly` bool on servers since 3.4 (read apart: older ones omit it). */
  ConnectResponse: define([
    ['protocolVersion', 'int'],
    ['timeOut', 'int'],
    ['sessionId', 'long'],
    ['passwd', 'buffer'],
  ]),
  RequestHeader: define([
    ['xid', 'int'],
    ['type', 'int'],
  ]),
  ReplyHeader: define([
    ['xid', 'int'],
    ['zxid', 'long'],
    ['err', 'int'],
  ]),
  WatcherEvent: define([['type', 'int'], ['state', 'int'], path]),
  /** exists, getData, getChildren2. */
  PathWatchRequest: define([path, ['watch', 'bool']]),
  /** sync, getACL, getAllChildrenNumber, getEphemerals (as its prefix). */
  PathRequest: define([path]),
  CreateRequest: define([path, ['data', 'buffer'], ['acl', 'acls'], ['flags', 'int']]),
  CreateTtlRequest: define([
    path,
    ['data', 'buffer'],
    ['acl', 'acls'],
    ['flags', 'int'],
    ['ttl', 'long'],
  ]),
  /** delete, check. */
  VersionRequest: define([path, ['version', 'int']]),
  SetDataRequest: define([path, ['data', 'buffer'], ['version', 'int']]),
  SetAclRequest: define([path, ['acl', 'acls'], ['version', 'int']]),
  /** The token of a SASL request and of its reply (`GetSASLRequest`, `SetSASLResponse`). */
  SaslToken: define([['token', 'buffer']]),
  AuthPacket: define([
    ['type', 'int'],
    ['scheme', 'string'],
    ['auth', 'buffer'],
  ]),
  SetWatches: define([
    ['relativeZxid', 'long'],
    ['dataWatches', 'strings'],
    ['existWatches', 'strings'],
    ['childWatches', 'strings'],
  ]),
  SetWatches2: define([
    ['relativeZxid', 'long'],
    ['dataWatches', 'strings'],
    ['existWatches', 'strings'],
    ['childWatches', 'strings'],
    ['persistentWatches', 'strings'],
    ['persistentRecursiveWatches', 'strings'],
  ]),
  AddWatchRequest: define([path, ['mode', 'int']]),
  /** removeWatches, checkWatches. */
  WatchesRequest: define([path, ['type', 'int']]),
  MultiHeader: define([
    ['type', 'int'],
    ['done', 'bool'],
    ['err', 'int'],
  ]),
  StatResponse: define([stat]),
  DataResponse: define([['data', 'buffer'], stat]),
  ChildrenResponse: define([['children', 'strings'], stat]),
  /** getChildren, which has no stat (getChildren2 has). */
  ChildNamesResponse: define([['children', 'strings']]),
  AclResponse: define([['acl', 'acls'], stat]),
  CreateResponse: define([path]),
  Create2Response: define([path, stat]),
  PathResponse: define([path]),
  EphemeralsResponse: define([['ephemerals', 'strings']]),
  CountResponse: define([['totalNumber', 'int']]),
  WhoAmIResponse: define([['clientInfo', 'clientInfos']]),
  ErrorResponse: define([['err', 'int']]),
  /** A body written by a function: a create's variant, a transaction's operations. */
  Raw: define([['write', 'raw']]),
} as const;

/** Writes `value`'s fields in the schema's order. */
export function encode<S extends Schema>(w: JuteWriter, schema: S, value: RecordOf<S>): JuteWriter {
  const fields = value as Record<string, unknown>;
  for (const [name, type] of schema) write(w, type, fields[name]);
  return w;
}

/** Reads a record's fields in the schema's order. Reading past the end throws a `RangeError`. */
export function decode<S extends Schema>(r: JuteReader, schema: S): RecordOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, type] of schema) out[name] = read(r, type);
  return out as RecordOf<S>;
}

/** One request packet (header + body) with its length prefix. */
export function requestFrame<S extends Schema>(
  xid: number,
  type: number,
  schema: S | undefined,
  body: RecordOf<S> | undefined,
): Buffer {
  const w = new JuteWriter().int(xid).int(type);
  if (schema && body) encode(w, schema, body);
  return w.frame();
}

function write(w: JuteWriter, type: FieldType, v: unknown): void {
  switch (type) {
    case 'int':
      w.int(v as number);
      return;
    case 'long':
      w.long(v as bigint);
      return;
    case 'bool':
      w.bool(v as boolean);
      return;
    case 'buffer':
      w.buffer(v as Buffer);
      return;
    case 'string':
      w.string(v as string);
      return;
    case 'strings': {
      const list = v as readonly string[];
      w.int(list.length);
      for (const s of list) w.string(s);
      return;
    }
    case 'acls': {
      const list = v as readonly Acl[];
      w.int(list.length);
      for (const a of list) w.int(a.perms).string(a.scheme).string(a.id);
      return;
    }
    case 'raw':
      (v as (w: JuteWriter) => void)(w);
      return;
    case 'stat':
    case 'clientInfos':
      throw new TypeError(`${type} is only ever read`);
  }
}

function read(r: JuteReader, type: FieldType): unknown {
  switch (type) {
    case 'int':
      return r.int();
    case 'long':
      return r.long();
    case 'bool':
      return r.bool();
    case 'buffer':
      return Buffer.from(r.buffer());
    case 'string':
      return r.string();
    case 'strings': {
      const n = count(r);
      const list: string[] = [];
      for (let i = 0; i < n; i++) list.push(r.string());
      return list;
    }
    case 'acls': {
      const n = count(r);
      const list: Acl[] = [];
      for (let i = 0; i < n; i++) {
        const perms = r.int();
        const scheme = r.string();
        const id = r.string();
        list.push({ perms, scheme, id });
      }
      return list;
    }
    case 'stat':
      return readStat(r);
    case 'raw':
      throw new TypeError('a raw field is only ever written');
    case 'clientInfos': {
      const n = count(r);
      const list: { scheme: string; user: string }[] = [];
      for (let i = 0; i < n; i++) {
        const scheme = r.string();
        const user = r.string();
        list.push({ scheme, user });
      }
      return list;
    }
  }
}

/** A vector's length; -1 is an empty (null) vector. Every element takes at least 4 bytes. */
function count(r: JuteReader): number {
  const n = r.int();
  if (n < 0) return 0;
  if (n * 4 > r.remaining) throw new RangeError(`a list of ${n} past the packet's end`);
  return n;
}

/** A session id or an ephemeral owner as core writes it: lowercase hex, unsigned. */
export function idToHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/** The inverse of {@link idToHex}. */
export function hexToId(hex: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${hex}`));
}

/** A node's stat as jute lays it out, in core's {@link Stat} form. */
export function readStat(r: JuteReader): Stat {
  const czxid = r.long();
  const mzxid = r.long();
  const ctime = Number(r.long());
  const mtime = Number(r.long());
  const version = r.int();
  const cversion = r.int();
  const aversion = r.int();
  const owner = r.long();
  const dataLength = r.int();
  const numChildren = r.int();
  const pzxid = r.long();
  return {
    czxid,
    mzxid,
    pzxid,
    ctime,
    mtime,
    version,
    cversion,
    aversion,
    ephemeralOwner: idToHex(owner),
    dataLength,
    numChildren,
  };
}
