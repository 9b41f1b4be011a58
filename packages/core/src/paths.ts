/**
 * ZooKeeper path helpers. Pure functions: nothing here talks to a server.
 *
 * @module
 */
import { InvalidPathError } from './errors.js';

/**
 * Checks a path against ZooKeeper's rules and throws {@link InvalidPathError} if it breaks one:
 * it must be a string starting with `/`, with no trailing `/` (except the root itself), no empty,
 * `.` or `..` segments, and no NUL, control or other characters the server refuses.
 *
 * @returns the path, for chaining
 */
export function validatePath(path: unknown): string {
  if (typeof path !== 'string') throw new InvalidPathError(path, 'not a string');
  if (path.length === 0) throw new InvalidPathError(path, 'empty');
  if (path[0] !== '/') throw new InvalidPathError(path, 'must start with /');
  if (path === '/') return path;
  if (path.endsWith('/')) throw new InvalidPathError(path, 'must not end with /');
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') throw new InvalidPathError(path, 'empty segment');
    if (segment === '.' || segment === '..') {
      throw new InvalidPathError(path, 'relative segment');
    }
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    // The server rejects the same ranges (PathUtils.validatePath).
    const bad =
      c === 0 ||
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff);
    if (bad) throw new InvalidPathError(path, `invalid character at ${i}`);
  }
  return path;
}

/**
 * Checks a single node name (no `/`) that will be appended to a parent path.
 *
 * @returns the name, for chaining
 */
export function validateName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidPathError(name, 'a node name must be a non-empty string');
  }
  if (name.includes('/')) throw new InvalidPathError(name, 'a node name must not contain /');
  validatePath(`/${name}`);
  return name;
}

/** Joins a parent path and child segments: `join('/a', 'b', 'c')` is `/a/b/c`. */
export function join(parent: string, ...children: string[]): string {
  let out = parent === '/' ? '' : parent;
  for (const child of children) {
    const trimmed = child.replace(/^\/+|\/+$/g, '');
    if (trimmed !== '') out += `/${trimmed}`;
  }
  return out === '' ? '/' : out;
}

/** The parent of a path; the root's parent is the root. */
export function parent(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of a path: `basename('/a/b')` is `'b'`. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Every proper ancestor of `path`, nearest last: `ancestors('/a/b/c')` is `['/a', '/a/b']`.
 */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/', 1);
  while (i !== -1) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}

/** Length of the sequence suffix the server appends to sequential nodes (`%010d`). */
export const SEQUENCE_DIGITS = 10;

/**
 * The sequence number the server appended to a sequential node's name, or `undefined` if the name
 * does not end with one.
 *
 * The counter is the parent's `cversion`, a signed 32-bit integer: past 2147483647 it wraps to
 * negative numbers, printed as `-2147483648` (11 characters). Orders built on the zero-padded text
 * (as Curator's are) therefore break after 2^31 creates under one parent; containers that are
 * reaped and recreated restart at 0, which also makes the number useless as a fencing token.
 */
export function sequenceOf(name: string): number | undefined {
  // `%010d` pads to ten characters including the sign, so -5 is `-000000005`; only the
  // minimum, -2147483648, is longer.
  const tail = name.slice(-SEQUENCE_DIGITS);
  if (/^\d{10}$/.test(tail)) {
    const value = Number.parseInt(tail, 10);
    if (value > 0x7fffffff && name.at(-SEQUENCE_DIGITS - 1) === '-') return -value;
    return value;
  }
  if (/^-\d{9}$/.test(tail)) return Number.parseInt(tail, 10);
  return undefined;
}
