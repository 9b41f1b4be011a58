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

  test('host list - a list that grows moves a client with probability 1 − n/m, to an added server', async () => {
    const three = parseConnectString('127.0.0.1:1,127.0.0.1:2,127.0.0.1:3').hosts;
    const five = parseConnectString(
      '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5',
    ).hosts;
    const trials = 4000;
    let moves = 0;
    for (let i = 0; i < trials; i++) {
      const list = new HostList(three);
      if (!list.update(five, '127.0.0.1:2')) continue;
      moves++;
      // A client that moves tries an added server first.
      expect([4, 5]).toContain((await list.next())?.port);
    }
    // 1 − 3/5 = 0.4; four standard deviations of 4000 draws are ±0.031.
    expect(Math.abs(moves / trials - 0.4)).toBeLessThan(0.031);
  });

  test('host list - a client whose server left the list always moves; one whose server stays in a shrunk list stays', async () => {
    const five = parseConnectString(
      '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5',
    ).hosts;
    const three = parseConnectString('127.0.0.1:1,127.0.0.1:2,127.0.0.1:3').hosts;
    for (let i = 0; i < 50; i++) {
      const staying = new HostList(five);
      expect(staying.update(three, '127.0.0.1:1')).toBe(false);
      const leaving = new HostList(five);
      expect(leaving.update(three, '127.0.0.1:5')).toBe(true);
      expect([1, 2, 3]).toContain((await leaving.next())?.port);
      // The next address of either comes from the new list.
      expect([1, 2, 3]).toContain((await staying.next())?.port);
    }
  });

  test('host list - a replaced server sends its clients to the one that replaced it', async () => {
    const before = parseConnectString('127.0.0.1:1,127.0.0.1:2,127.0.0.1:3').hosts;
    const after = parseConnectString('127.0.0.1:1,127.0.0.1:2,127.0.0.1:4').hosts;
    for (let i = 0; i < 50; i++) {
      const list = new HostList(before);
      // n = m = 3, two kept: the kept ones already carry their share, so the new one is first.
      expect(list.update(after, '127.0.0.1:3')).toBe(true);
      expect((await list.next())?.port).toBe(4);
    }
  });
});
