/**
 * The requests in flight on one connection, oldest first. ZooKeeper answers a connection's
 * requests in the order it received them, so every reply must answer the oldest request: a reply
 * for any other xid means the stream is out of step, and the connection must go.
 *
 * @internal
 * @module
 */
import type { JuteReader } from '../jute.js';

/** One request waiting for its reply. */
export interface PendingRequest {
  readonly xid: number;
  /** The reply arrived: `err` from its header, `body` positioned after the header. */
  reply(err: number, body: JuteReader): void;
  /** No reply will come (the connection ended or the transport closed). */
  fail(error: Error): void;
}

/** A FIFO of {@link PendingRequest}s with the xid counter of one session. */
export class RequestQueue {
  #items: PendingRequest[] = [];
  #head = 0;
  #xid = 0;

  /** The next request xid: 1 … 2^31 − 1, then round again (negative xids are reserved). */
  nextXid(): number {
    this.#xid = this.#xid >= 0x7fffffff ? 1 : this.#xid + 1;
    return this.#xid;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(request: PendingRequest): void {
    this.#items.push(request);
  }

  /**
   * Takes the oldest request if `xid` answers it; `undefined` when the reply is out of order
   * (or answers nothing), and then the queue is left as it was.
   */
  take(xid: number): PendingRequest | undefined {
    const head = this.#items[this.#head];
    if (!head || head.xid !== xid) return undefined;
    this.#items[this.#head] = undefined as unknown as PendingRequest;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return head;
  }

  /** The oldest request's xid, if any. */
  get oldestXid(): number | undefined {
    return this.#items[this.#head]?.xid;
  }

  /** Fails every request, oldest first, and empties the queue. */
  failAll(error: Error): void {
    const items = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    for (const item of items) item.fail(error);
  }
}
