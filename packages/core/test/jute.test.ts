import { describe, expect, it } from 'vitest';
import { JuteReader, JuteWriter } from '../src/jute.js';

describe('jute', () => {
  it('jute - a frame is its length, then every field big-endian and length-prefixed, in order', () => {
    const frame = new JuteWriter()
      .int(-2)
      .int(11)
      .long(0x0102030405060708n)
      .bool(true)
      .bool(false)
      .buffer(Buffer.from([9, 8, 7]))
      .string('zk')
      .frame();
    const fields = Buffer.from([
      ...[0xff, 0xff, 0xff, 0xfe], // -2
      ...[0, 0, 0, 11],
      ...[1, 2, 3, 4, 5, 6, 7, 8],
      ...[1, 0], // true, false
      ...[0, 0, 0, 3, 9, 8, 7],
      ...[0, 0, 0, 2, 0x7a, 0x6b], // 'zk'
    ]);
    expect(frame.readInt32BE(0)).toBe(fields.length);
    expect(frame.subarray(4).equals(fields)).toBe(true);
  });

  it('jute - fields far longer than the writer starts with are written whole, UTF-8 as Buffer.from writes it', () => {
    const path = `/${'ä'.repeat(300)}/\u{1f600}/\ud800`;
    const data = Buffer.alloc(70_000, 0x5a);
    const frame = new JuteWriter().string(path).buffer(data).int(7).frame();
    const r = new JuteReader(frame.subarray(4));
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    expect(r.string()).toBe(Buffer.from(path, 'utf8').toString('utf8'));
    expect(Buffer.compare(r.buffer(), data)).toBe(0);
    expect(r.int()).toBe(7);
    expect(r.remaining).toBe(0);
  });
});
