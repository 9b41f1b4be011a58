import { describe, expect, it } from 'vitest';
import {
  BadVersionError,
  ConnectionLossError,
  InvalidPathError,
  NoNodeError,
  OperationTimeoutError,
  SessionExpiredError,
  SessionMovedError,
  UnknownZkError,
  ZkError,
  ancestors,
  basename,
  errorFromCode,
  isRetryable,
  join,
  parent,
  sequenceOf,
  validateName,
  validatePath,
} from '../src/index.js';

describe('paths', () => {
  it.each([
    ['', 'empty'],
    ['a', 'must start with /'],
    ['/a/', 'must not end with /'],
    ['//a', 'empty segment'],
    ['/a//b', 'empty segment'],
    ['/a/./b', 'relative segment'],
    ['/a/..', 'relative segment'],
    ['/a\u0000b', 'invalid character at 2'],
    ['/a\u0007', 'invalid character at 2'],
    ['/a\u009f', 'invalid character at 2'],
    ['/\ud800x', 'invalid character at 1'],
  ])('paths - %j is rejected (%s)', (path, reason) => {
    expect(() => validatePath(path)).toThrow(InvalidPathError);
    try {
      validatePath(path);
    } catch (error) {
      expect((error as InvalidPathError).reason).toBe(reason);
      expect((error as InvalidPathError).code).toBe('INVALID_PATH');
    }
  });

  it('paths - non-strings are rejected', () => {
    expect(() => validatePath(undefined)).toThrow(InvalidPathError);
    expect(() => validatePath(42)).toThrow(InvalidPathError);
  });

  it.each(['/', '/a', '/a/b-c_d.e', '/zookeeper', '/ünïcode/名前', '/a/...'])(
    'paths - %j is accepted',
    (path) => {
      expect(validatePath(path)).toBe(path);
    },
  );

  it('paths - node names must be single non-empty segments', () => {
    expect(validateName('lock-')).toBe('lock-');
    expect(() => validateName('a/b')).toThrow(InvalidPathError);
    expect(() => validateName('')).toThrow(InvalidPathError);
    expect(() => validateName('..')).toThrow(InvalidPathError);
  });

  it('paths - join, parent, basename and ancestors', () => {
    expect(join('/', 'a')).toBe('/a');
    expect(join('/a', 'b', 'c')).toBe('/a/b/c');
    expect(join('/a', '/b/')).toBe('/a/b');
    expect(join('/')).toBe('/');
    expect(parent('/a/b')).toBe('/a');
    expect(parent('/a')).toBe('/');
    expect(parent('/')).toBe('/');
    expect(basename('/a/b')).toBe('b');
    expect(ancestors('/a/b/c')).toEqual(['/a', '/a/b']);
    expect(ancestors('/a')).toEqual([]);
  });

  it('paths - sequence numbers are read from the 10-digit suffix, including after overflow', () => {
    expect(sequenceOf('_c_x-lock-0000000042')).toBe(42);
    expect(sequenceOf('queue-2147483647')).toBe(2147483647);
    // Past 2^31 - 1 the server prints the signed counter.
    expect(sequenceOf('queue--2147483648')).toBe(-2147483648);
    expect(sequenceOf('no-sequence')).toBeUndefined();
    expect(sequenceOf('lock-123')).toBeUndefined();
  });
});

describe('errors', () => {
  it('errors - server codes map to typed classes with stable codes', () => {
    const e = errorFromCode(-101, 'no node', { path: '/x' });
    expect(e).toBeInstanceOf(NoNodeError);
    expect(e).toBeInstanceOf(ZkError);
    expect(e.code).toBe('NO_NODE');
    expect(e.rc).toBe(-101);
    expect(e.path).toBe('/x');
    expect(e.name).toBe('NoNodeError');
    expect(errorFromCode(-103)).toBeInstanceOf(BadVersionError);
    // A request cut off by a reset: outcome unknown, handled as connection loss.
    expect(errorFromCode(-2)).toBeInstanceOf(ConnectionLossError);
    expect(isRetryable(errorFromCode(-2))).toBe(true);
    const unknown = errorFromCode(-999, 'strange');
    expect(unknown).toBeInstanceOf(UnknownZkError);
    expect(unknown.rc).toBe(-999);
  });

  it('errors - only connection-level failures are retryable', () => {
    expect(isRetryable(new ConnectionLossError())).toBe(true);
    expect(isRetryable(new OperationTimeoutError())).toBe(true);
    expect(isRetryable(new SessionMovedError())).toBe(true);
    expect(isRetryable(new SessionExpiredError())).toBe(false);
    expect(isRetryable(new NoNodeError())).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
  });

  it('errors - the cause is kept', () => {
    const cause = new Error('root');
    expect(new NoNodeError({ cause }).cause).toBe(cause);
  });
});
