/**
 * One TCP connection carrying ZooKeeper frames: a 4-byte big-endian length, then that many bytes.
 * It enforces the frame limit in both directions and reports the connection's end once, with the
 * reason: a {@link ProtocolError} for a stream that broke the framing, the socket's error, or
 * nothing for an orderly close.
 *
 * @internal
 * @module
 */
import { createConnection, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { RequestTooLargeError, ProtocolError } from '../errors.js';

/** Frames of one turn up to this many bytes in all are joined into one buffer before writing. */
const JOIN_LIMIT = 16 * 1024;

/** What a {@link FrameSocket} reports. */
export interface FrameSocketHandlers {
  /** The TCP connection is up. */
  open(): void;
  /** Bytes arrived (part of a frame, or several): the connection is alive. */
  received(): void;
  /** One whole frame, without its length prefix. */
  frame(packet: Buffer): void;
  /** The connection ended (reported once); `error` says why when it was not an orderly close. */
  closed(error: Error | undefined): void;
}

/** Limits of a {@link FrameSocket}, bytes of frame payload (the length prefix not counted). */
export interface FrameLimits {
  /** Longest frame accepted from the server. */
  readonly incoming: number;
  /** Longest frame sent to the server. */
  readonly outgoing: number;
}

/** A frame socket to one address. */
export class FrameSocket {
  readonly #socket: Socket;
  readonly #handlers: FrameSocketHandlers;
  readonly #limits: FrameLimits;
  /** Bytes received and not yet handed out as frames, in order. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  /** Frames written in the current turn, not yet handed to the socket, in order. */
  #outgoing: Buffer[] = [];

  /**
   * @param address - where to connect; `name` is the host as the connect string gives it, which
   *   a TLS connection verifies the server's certificate against (and sends as SNI when it is
   *   a name, not an address)
   * @param tls - `node:tls` options: connect with TLS instead of plain TCP
   */
  constructor(
    address: { host: string; port: number; family?: number; name?: string },
    limits: FrameLimits,
    handlers: FrameSocketHandlers,
    tls?: ConnectionOptions,
  ) {
    this.#limits = limits;
    this.#handlers = handlers;
    const where = {
      host: address.host,
      port: address.port,
      ...(address.family ? { family: address.family } : {}),
    };
    let socket: Socket;
    if (tls) {
      const name = address.name ?? address.host;
      const servername = tls.servername ?? (isIP(name) === 0 ? name : undefined);
      // The address may be one the name resolved to: the certificate is checked against the
      // name (an address is checked as itself).
      socket = connectTls({ ...tls, ...where, ...(servername ? { servername } : {}) });
      socket.setNoDelay(true);
    } else {
      socket = createConnection({ ...where, noDelay: true });
    }
    this.#socket = socket;
    socket.on(tls ? 'secureConnect' : 'connect', () => {
      if (!this.#ended) handlers.open();
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', () => this.#onClose());
  }

  /** Whether the connection can still carry frames. */
  get writable(): boolean {
    return !this.#ended && !this.#socket.destroyed;
  }

  /**
   * Sends one frame (length prefix included). Frames written in one turn (up to the end of the
   * current microtask queue) leave together, in order, in one socket write: requests sent
   * together (a create and the listing behind it, a batch of reads) cost one system call, and
   * reach the server in one segment rather than one each.
   * @throws {@link RequestTooLargeError} when the frame is over the outgoing limit; nothing is sent
   */
  write(frame: Buffer): void {
    const size = frame.length - 4;
    if (size > this.#limits.outgoing) throw new RequestTooLargeError(size, this.#limits.outgoing);
    if (!this.writable) return;
    this.#outgoing.push(frame);
    if (this.#outgoing.length === 1) queueMicrotask(this.#flush);
  }

  /**
   * Sends the frames written in this turn now instead of at its end: for a caller that has
   * written a group of requests and has more work to do before the turn ends.
   */
  flush(): void {
    this.#flush();
  }

  readonly #flush = (): void => {
    const frames = this.#outgoing;
    this.#outgoing = [];
    if (!this.writable || frames.length === 0) return;
    if (frames.length === 1) {
      this.#socket.write(frames[0] as Buffer);
      return;
    }
    // Small frames are joined (one copy of a few hundred bytes); large ones go out as they are,
    // corked into one vectored write, so a big request is never copied.
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    if (bytes <= JOIN_LIMIT) {
      this.#socket.write(Buffer.concat(frames, bytes));
      return;
    }
    this.#socket.cork();
    for (const f of frames) this.#socket.write(f);
    this.#socket.uncork();
  };

  /**
   * Closes the connection; `error` is what {@link FrameSocketHandlers.closed} reports. Frames
   * not yet handed to the socket are dropped, as if the connection had ended before them.
   */
  destroy(error?: Error): void {
    if (error) this.#error ??= error;
    this.#outgoing = [];
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#ended) return;
    this.#handlers.received();
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    // Chunks are joined only once a whole frame is there: joining at every chunk would copy a
    // long reply over and over.
    while (this.#buffered >= 4) {
      const n = this.#peekLength();
      if (n < 0 || n > this.#limits.incoming) {
        this.destroy(
          new ProtocolError(
            `the server sent a frame of ${n} bytes (limit ${this.#limits.incoming})`,
          ),
        );
        return;
      }
      if (this.#buffered < 4 + n) return;
      const packet = this.#take(4 + n).subarray(4);
      this.#handlers.frame(packet);
      // A handler may have closed the connection: what follows is no longer ours to read.
      if (this.#ended || this.#socket.destroyed) return;
    }
  }

  /** The length prefix at the front of the buffered bytes (at least 4 are buffered). */
  #peekLength(): number {
    const first = this.#chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32BE(0);
    return this.#take(4, true).readInt32BE(0);
  }

  /** The first `size` buffered bytes as one buffer; with `peek`, they stay buffered. */
  #take(size: number, peek = false): Buffer {
    const first = this.#chunks[0] as Buffer;
    let out: Buffer;
    if (first.length >= size) {
      out = first.subarray(0, size);
    } else {
      out = Buffer.allocUnsafe(size);
      let at = 0;
      for (const c of this.#chunks) {
        const n = Math.min(c.length, size - at);
        c.copy(out, at, 0, n);
        at += n;
        if (at === size) break;
      }
    }
    if (peek) return out;
    let left = size;
    while (left > 0) {
      const c = this.#chunks[0] as Buffer;
      if (c.length <= left) {
        this.#chunks.shift();
        left -= c.length;
      } else {
        this.#chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.#buffered -= size;
    return out;
  }

  #onClose(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#error && this.#buffered > 0) {
      const expected = this.#buffered >= 4 ? this.#peekLength() : undefined;
      this.#error = new ProtocolError(
        expected === undefined
          ? `the connection ended inside a frame's length (${this.#buffered} bytes)`
          : `the connection ended after ${this.#buffered - 4} of a frame's ${expected} bytes`,
      );
    }
    this.#chunks = [];
    this.#buffered = 0;
    this.#handlers.closed(this.#error);
  }
}
