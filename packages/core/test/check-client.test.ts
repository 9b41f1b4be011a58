import { describe, expect, test } from 'vitest';
import { checkClient, InvalidArgumentError, ZkClient } from '../src/index.js';

describe('checkClient', () => {
  test('checkClient - accepts a ZkClient, started or not, and refuses anything else', () => {
    expect(() => checkClient(new ZkClient('127.0.0.1:1'))).not.toThrow();
    for (const bad of [undefined, null, 'localhost:2181', {}, { getChildren() {} }]) {
      expect(() => checkClient(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => checkClient({})).toThrow('client must be a ZkClient from @zkit/core');
  });
});
