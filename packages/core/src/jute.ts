/**
 * The few pieces of ZooKeeper's wire format (jute: big-endian integers, length-prefixed byte
 * buffers and UTF-8 strings, every packet framed by a 4-byte length) that the watch connection
 * needs.
 *
 * @internal
 * @module
 */

/** Bytes a writer starts with; small enough to come from Node's shared buffer pool. */
const INITIAL_CAPACITY = 128;

/**
 * Builds one packet in a single buffer (4 bytes kept in front for the length), then frames it.
 * Requests are built on every call, so each field is written in place: no buffer per field and
 * no join at the end.
 */
export class JuteWriter {
  #buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  #at = 4;

  int(value: number): this {
    this.#reserve(4);
    this.#at = this.#buf.writeInt32BE(value, this.#at);
    return this;
  }

  long(value: bigint): this {
    this.#reserve(8);
    this.#at = this.#buf.writeBigInt64BE(value, this.#at);
    return this;
  }

  bool(value: boolean): this {
    this.#reserve(1);
    this.#buf[this.#at++] = value ? 1 : 0;
    return this;
  }

  /** A byte buffer: its length, then the bytes. */
  buffer(value: Uint8Array): this {
    this.int(value.length);
    this.#reserve(value.length);
    this.#buf.set(value, this.#at);
    this.#at += value.length;
    return this;
  }

  /** A UTF-8 string: its byte length, then the bytes. */
  string(value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    this.int(length);
    this.#reserve(length);
    this.#at += this.#buf.write(value, this.#at, length, 'utf8');
    return this;
  }

  /** The packet with its 4-byte length prefix (a view of the writer's buffer: write no more). */
  frame(): Buffer {
    this.#buf.writeInt32BE(this.#at - 4, 0);
    return this.#buf.subarray(0, this.#at);
  }

  /** Makes room for `n` more bytes, doubling the buffer as often as needed. */
  #reserve(n: number): void {
    const need = this.#at + n;
    if (need <= this.#buf.length) return;
    let capacity = this.#buf.length * 2;
    while (capacity < need) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
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
