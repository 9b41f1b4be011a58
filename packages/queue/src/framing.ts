/**
 * Curator's `DistributedQueue` item framing, big-endian: int32 version `0x00010001`, then per
 * item the byte `0x01`, an int32 length and the bytes, then the end byte `0x02`. One node can
 * carry several items (Curator's `putMulti`, our `putMany`).
 *
 * @internal
 * @module
 */

const VERSION = 0x00010001;
const ITEM = 0x01;
const END = 0x02;

/**
 * Frames `items` as one node's data; `mark`, when given, follows the end byte. Readers stop at
 * the end byte (Curator's reader too), so the mark changes nothing for them; a producer uses it
 * to recognise its own node after a lost reply.
 */
export function encodeItems(items: readonly Uint8Array[], mark?: Uint8Array): Buffer {
  let size = 4 + 1 + (mark?.byteLength ?? 0);
  for (const item of items) size += 5 + item.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32BE(VERSION, 0);
  for (const item of items) {
    at = out.writeUInt8(ITEM, at);
    at = out.writeInt32BE(item.byteLength, at);
    out.set(item, at);
    at += item.byteLength;
  }
  at = out.writeUInt8(END, at);
  if (mark) out.set(mark, at);
  return out;
}

/** Whether `data` carries `mark` after its end byte. */
export function hasMark(data: Buffer, mark: Uint8Array): boolean {
  return data.length >= 5 + mark.byteLength && data.subarray(-mark.byteLength).equals(mark);
}

/** The items of one node's data; throws a plain `Error` saying what is wrong with the framing. */
export function decodeItems(data: Buffer): Buffer[] {
  if (data.length < 4) throw new Error('too short for a version');
  const version = data.readInt32BE(0);
  if (version !== VERSION) throw new Error(`unknown version 0x${(version >>> 0).toString(16)}`);
  const items: Buffer[] = [];
  let at = 4;
  for (;;) {
    if (at >= data.length) throw new Error('no end marker');
    const op = data.readUInt8(at);
    at += 1;
    if (op === END) return items;
    if (op !== ITEM) throw new Error(`unknown opcode ${op}`);
    if (at + 4 > data.length) throw new Error('truncated length');
    const length = data.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > data.length) throw new Error(`bad item length ${length}`);
    items.push(data.subarray(at, at + length));
    at += length;
  }
}
