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

/** Frames `items` as one node's data. */
export function encodeItems(items: readonly Uint8Array[]): Buffer {
  let size = 4 + 1;
  for (const item of items) size += 5 + item.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32BE(VERSION, 0);
  for (const item of items) {
    at = out.writeUInt8(ITEM, at);
    at = out.writeInt32BE(item.byteLength, at);
    out.set(item, at);
    at += item.byteLength;
  }
  out.writeUInt8(END, at);
  return out;
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
