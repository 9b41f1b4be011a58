/**
 * The few pieces of ZooKeeper's wire format (jute: big-endian integers, length-prefixed byte
 * buffers and UTF-8 strings, every packet framed by a 4-byte length) that the watch connection
 * needs.
 *
 * @internal
 * @module
 */

/** Builds one packet, then frames it with its length. */
export class JuteWriter {
  readonly #parts: Buffer[] = [];
  #size = 0;

  int(value: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(value);
    return this.#push(b);
  }

  long(value: bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(value);
    return this.#push(b);
  }

  bool(value: boolean): this {
    return this.#push(Buffer.from([value ? 1 : 0]));
  }

  /** A byte buffer: its length, then the bytes. */
  buffer(value: Uint8Array): this {
    this.int(value.length);
    return this.#push(Buffer.from(value));
  }

  /** A UTF-8 string: its byte length, then the bytes. */
  string(value: string): this {
    return this.buffer(Buffer.from(value, 'utf8'));
  }

  /** The packet with its 4-byte length prefix. */
  frame(): Buffer {
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(this.#size);
    return Buffer.concat([length, ...this.#parts], this.#size + 4);
  }

  #push(b: Buffer): this {
    this.#parts.push(b);
    this.#size += b.length;
    return this;
  }
}

/** Reads one packet's fields in order. Reading past the end throws a `RangeError`. */
export class JuteReader {
  readonly #b: Buffer;
  #at = 0;

  constructor(packet: Buffer) {
    this.#b = packet;
  }

  get remaining(): number {
    return this.#b.length - this.#at;
  }

  int(): number {
    const v = this.#b.readInt32BE(this.#at);
    this.#at += 4;
    return v;
  }

  long(): bigint {
    const v = this.#b.readBigInt64BE(this.#at);
    this.#at += 8;
    return v;
  }

  bool(): boolean {
    const v = this.#b.readUInt8(this.#at);
    this.#at += 1;
    return v !== 0;
  }

  /** A byte buffer; a negative length (null) reads as empty. */
  buffer(): Buffer {
    const n = this.int();
    if (n <= 0) return Buffer.alloc(0);
    if (n > this.remaining) throw new RangeError(`buffer of ${n} bytes past the packet's end`);
    const v = this.#b.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }

  string(): string {
    return this.buffer().toString('utf8');
  }
}

/**
 * Splits a byte stream into packets (without their length prefix). A length over `maxPacket`
 * is reported as an error: the stream is not ZooKeeper's, or it is corrupt.
 */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);
  readonly #maxPacket: number;

  constructor(maxPacket: number) {
    this.#maxPacket = maxPacket;
  }

  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const packets: Buffer[] = [];
    let at = 0;
    while (this.#pending.length - at >= 4) {
      const n = this.#pending.readInt32BE(at);
      if (n < 0 || n > this.#maxPacket) throw new RangeError(`bad packet length ${n}`);
      if (this.#pending.length - at - 4 < n) break;
      packets.push(this.#pending.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    this.#pending = this.#pending.subarray(at);
    return packets;
  }
}
