/**
 * One TCP connection carrying ZooKeeper frames: a 4-byte big-endian length, then that many bytes.
 * It enforces the frame limit in both directions and reports the connection's end once, with the
 * reason: a {@link ProtocolError} for a stream that broke the framing, the socket's error, or
 * nothing for an orderly close.
 *
 * @internal
 * @module
 */
import { createConnection, type Socket } from 'node:net';
import { DataTooLargeError, ProtocolError } from '../errors.js';

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
  #pending: Buffer = Buffer.alloc(0);
  #ended = false;
  #error: Error | undefined;

  constructor(
    address: { host: string; port: number; family?: number },
    limits: FrameLimits,
    handlers: FrameSocketHandlers,
  ) {
    this.#limits = limits;
    this.#handlers = handlers;
    const socket = createConnection({
      host: address.host,
      port: address.port,
      ...(address.family ? { family: address.family } : {}),
      noDelay: true,
    });
    this.#socket = socket;
    socket.on('connect', () => {
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
   * Sends one frame (length prefix included).
   * @throws {@link DataTooLargeError} when the frame is over the outgoing limit; nothing is sent
   */
  write(frame: Buffer): void {
    const size = frame.length - 4;
    if (size > this.#limits.outgoing) throw new DataTooLargeError(size, this.#limits.outgoing);
    if (this.writable) this.#socket.write(frame);
  }

  /** Closes the connection; `error` is what {@link FrameSocketHandlers.closed} reports. */
  destroy(error?: Error): void {
    if (error) this.#error ??= error;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#ended) return;
    this.#handlers.received();
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let at = 0;
    while (buffer.length - at >= 4) {
      const n = buffer.readInt32BE(at);
      if (n < 0 || n > this.#limits.incoming) {
        this.destroy(
          new ProtocolError(
            `the server sent a frame of ${n} bytes (limit ${this.#limits.incoming})`,
          ),
        );
        return;
      }
      if (buffer.length - at - 4 < n) break;
      const packet = buffer.subarray(at + 4, at + 4 + n);
      at += 4 + n;
      this.#handlers.frame(packet);
      // A handler may have closed the connection: what follows is no longer ours to read.
      if (this.#ended || this.#socket.destroyed) return;
    }
    buffer = buffer.subarray(at);
    // Keep a copy of a short tail only: a view would pin the whole chunk.
    this.#pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
  }

  #onClose(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#error && this.#pending.length > 0) {
      const expected = this.#pending.length >= 4 ? this.#pending.readInt32BE(0) : undefined;
      this.#error = new ProtocolError(
        expected === undefined
          ? `the connection ended inside a frame's length (${this.#pending.length} bytes)`
          : `the connection ended after ${this.#pending.length - 4} of a frame's ${expected} bytes`,
      );
    }
    this.#pending = Buffer.alloc(0);
    this.#handlers.closed(this.#error);
  }
}
