import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultNodeData } from '../src/index.js';

describe('defaultNodeData', () => {
  it("is this host's first non-internal IPv4 address, else the loopback address, read once", () => {
    const external = Object.values(networkInterfaces())
      .flatMap((entries) => entries ?? [])
      .find((entry) => entry.family === 'IPv4' && !entry.internal);
    expect(defaultNodeData()).toBe(external?.address ?? '127.0.0.1');
    expect(defaultNodeData()).toBe(defaultNodeData());
  });
});
