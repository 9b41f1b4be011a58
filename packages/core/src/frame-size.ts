/**
 * The encoded size of a request, counted before it is sent.
 *
 * The server reads each request as a length-prefixed frame and drops the connection — without a
 * reply — when the length (request header included, the four length bytes excluded) is over its
 * `jute.maxbuffer` (0xfffff = 1,048,575 bytes unless configured). Measured on a 3.8 server: a
 * create frame of 1,048,575 bytes is answered, one of 1,048,576 closes the connection. A client
 * that retried such a request would reconnect and be dropped again, over and over, so core counts
 * the whole frame (path with chroot and namespace, data, ACL, the fixed fields) and refuses it
 * before anything is sent.
 *
 * @internal
 * @module
 */
import type { Acl } from './binding.js';

/** The server's default `jute.maxbuffer`: the largest frame it accepts, bytes. */
export const DEFAULT_MAX_FRAME_BYTES = 0xfffff;

/** A request header: xid and opcode, two int32s. */
const HEADER = 8;
/** An int32 field (length prefix, version, flags, a boolean padded up is smaller: 1 byte). */
const INT = 4;

/** The ACL every create carries when none is given: `world:anyone`, all permissions. */
const OPEN_ACL: readonly Acl[] = [{ perms: 31, scheme: 'world', id: 'anyone' }];

/** A jute string or buffer: an int32 length, then the bytes. */
function bytes(text: string): number {
  return INT + Buffer.byteLength(text, 'utf8');
}

/** A jute vector of ACL entries: a count, then perms, scheme and id of each. */
function aclBytes(acl: readonly Acl[]): number {
  let size = INT;
  for (const a of acl) size += INT + bytes(a.scheme) + bytes(a.id);
  return size;
}

/**
 * A create: path, data, ACL, flags, and a TTL for the TTL modes. The ACL counted is the larger of
 * the one given and the open one, whichever transport sends which.
 */
export function createFrameBytes(
  path: string,
  dataLength: number,
  acl: readonly Acl[] | undefined,
  ttl: boolean,
): number {
  const aclSize = Math.max(aclBytes(acl ?? OPEN_ACL), aclBytes(OPEN_ACL));
  return HEADER + bytes(path) + INT + dataLength + aclSize + INT + (ttl ? 8 : 0);
}

/** A set: path, data, version. */
export function setFrameBytes(path: string, dataLength: number): number {
  return HEADER + bytes(path) + INT + dataLength + INT;
}

/** A setAcl: path, ACL, version. */
export function setAclFrameBytes(path: string, acl: readonly Acl[]): number {
  return HEADER + bytes(path) + aclBytes(acl) + INT;
}

/**
 * Any request that carries just a path and a fixed field or two (get, exists, getChildren,
 * delete, sync, getAcl): the path plus room for a version or a watch flag.
 */
export function pathFrameBytes(path: string): number {
  return HEADER + bytes(path) + INT;
}

/** An addAuth: type, scheme and credentials. */
export function authFrameBytes(scheme: string, credentials: string): number {
  return HEADER + INT + bytes(scheme) + bytes(credentials);
}
