import { InvalidArgumentError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { Barrier } from '../src/index.js';

test("input - failOnSessionLoss must be a boolean: the string 'false' is not taken as set", async ({
  zk,
}) => {
  const client = await zk.client();
  const barrier = new Barrier(client, '/gate');
  for (const value of ['false', 1, {}]) {
    expect(() => barrier.wait({ failOnSessionLoss: value as never })).toThrow(InvalidArgumentError);
  }
  await expect(barrier.wait({ failOnSessionLoss: false })).resolves.toBeUndefined();
});
