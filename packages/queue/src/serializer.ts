import { InvalidArgumentError } from '@zkit/core';

/**
 * Turns one item into bytes and back. The bytes become one entry of Curator's item framing, so
 * a Curator `QueueSerializer` with the same encoding reads them.
 *
 * `deserialize` may throw: the item is then reported as a `MalformedItemError`.
 *
 * @example
 * ```ts
 * const utf8: Serializer<string> = {
 *   serialize: (s) => Buffer.from(s, 'utf8'),
 *   deserialize: (b) => b.toString('utf8'),
 * };
 * ```
 */
export interface Serializer<T> {
  /** The bytes stored for `value`; throws for a value it cannot encode. */
  serialize(value: T): Uint8Array;
  /** The item read back from its bytes; throws for bytes it cannot decode. */
  deserialize(bytes: Buffer): T;
}

/**
 * The default: `JSON.stringify` as UTF-8. Values JSON cannot represent (`undefined`, functions,
 * symbols) throw `InvalidArgumentError` before anything is sent.
 *
 * @example
 * ```ts
 * const queue = new Queue<{ id: number }>(client, '/jobs', { serializer: jsonSerializer });
 * ```
 */
export const jsonSerializer: Serializer<unknown> = Object.freeze({
  serialize(value: unknown): Uint8Array {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) throw new InvalidArgumentError('the item has no JSON representation');
    return Buffer.from(text, 'utf8');
  },
  deserialize(bytes: Buffer): unknown {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  },
});

/**
 * Bytes pass through unchanged (Curator's identity serializer on `byte[]`).
 *
 * @example
 * ```ts
 * const queue = new Queue(client, '/frames', { serializer: bytesSerializer });
 * await queue.put(new Uint8Array([1, 2, 3]));
 * ```
 */
export const bytesSerializer: Serializer<Uint8Array> = Object.freeze({
  serialize(value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) throw new InvalidArgumentError('the item must be bytes');
    return value;
  },
  deserialize(bytes: Buffer): Uint8Array {
    return bytes;
  },
});

/**
 * Strings as UTF-8 bytes, without JSON quoting: what a Curator queue of `byte[]` holding text
 * produces and expects.
 *
 * @example
 * ```ts
 * const queue = new Queue(client, '/commands', { serializer: stringSerializer });
 * await queue.put('reindex');
 * ```
 */
export const stringSerializer: Serializer<string> = Object.freeze({
  serialize(value: string): Uint8Array {
    if (typeof value !== 'string') throw new InvalidArgumentError('the item must be a string');
    return Buffer.from(value, 'utf8');
  },
  deserialize(bytes: Buffer): string {
    return bytes.toString('utf8');
  },
});
