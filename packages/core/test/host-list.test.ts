import { describe, expect, test } from 'vitest';
import { HostList, parseConnectString } from '../src/wire/host-list.js';

describe('host list', () => {
  test('host list - the address handed out last comes last in the next round', async () => {
    const { hosts } = parseConnectString('127.0.0.1:2181,127.0.0.2:2181,127.0.0.3:2181');
    for (let trial = 0; trial < 50; trial++) {
      const list = new HostList(hosts);
      const first = [await list.next(), await list.next(), await list.next()];
      expect(new Set(first.map((a) => a?.host)).size).toBe(3);
      const lost = first[2];
      // The client was connected to the last one, and lost it: the new round tries it last.
      const second = [await list.next(), await list.next(), await list.next()];
      expect(second[2]?.host).toBe(lost?.host);
      expect(new Set(second.map((a) => a?.host)).size).toBe(3);
    }
  });
});
