/**
 * How the queue classes name their item nodes and in which order consumers take them: Curator's
 * `DistributedQueue` (and priority queue), `DistributedDelayQueue` and `DistributedIdQueue`.
 *
 * @internal
 * @module
 */
import { InvalidArgumentError } from '@zkit/core';

/** Curator's item-node prefix; children with other names are ignored. */
export const ITEM_PREFIX = 'queue-';
/** The separator Curator puts around a due time or an id in an item name. */
const BAR = '|';
/** Digits of the sequence number the server appends to a sequential node's name. */
const SEQ_DIGITS = 10;

/** How a queue orders its item names. */
export interface Layout {
  /**
   * The names of `names` a consumer may take at `now` (epoch ms), in the order to take them,
   * and the earliest due time (epoch ms) of a name not yet due, if any.
   */
  order(names: readonly string[], now: number): { ready: string[]; next: number | undefined };
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Curator's `DistributedQueue` and `DistributedPriorityQueue`: names in text order. */
export const fifoLayout: Layout = {
  order: (names) => ({ ready: [...names].sort(byText), next: undefined }),
};

/**
 * The due time carried by a `DistributedDelayQueue` name: the hex digits between its last two
 * bars. A name without them, or with digits that do not parse, is due at once (as Curator reads
 * it).
 */
export function dueOf(name: string): number {
  const end = name.lastIndexOf(BAR);
  const start = end > 0 ? name.lastIndexOf(BAR, end - 1) : -1;
  if (start < 0 || end <= start + 1) return 0;
  const hex = name.slice(start + 1, end);
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return 0;
  const due = Number.parseInt(hex, 16);
  return Number.isSafeInteger(due) ? due : 0;
}

/**
 * Curator's `DistributedDelayQueue`: `queue-|<due>|<seq>`, the due time in epoch ms as upper-case
 * hex (at least 8 digits). Only items whose due time has come are ready, earliest first, put
 * order among equal due times.
 */
export const delayLayout: Layout = {
  order(names, now) {
    const ready: { name: string; due: number }[] = [];
    let next: number | undefined;
    for (const name of names) {
      const due = dueOf(name);
      if (due <= now) ready.push({ name, due });
      else if (next === undefined || due < next) next = due;
    }
    ready.sort((a, b) => a.due - b.due || byText(seqOf(a.name), seqOf(b.name)));
    return { ready: ready.map((r) => r.name), next };
  },
};

/** The item name prefix of a delayed item. */
export function delayName(due: number): string {
  return `${ITEM_PREFIX}${BAR}${due.toString(16).toUpperCase().padStart(8, '0')}${BAR}`;
}

/**
 * The id carried by a `DistributedIdQueue` name (between its first two bars), and the name
 * without it, which is what Curator sorts by; `undefined` for a name without two bars.
 */
export function idOf(name: string): { id: string; rest: string } | undefined {
  const start = name.indexOf(BAR);
  const end = start < 0 ? -1 : name.indexOf(BAR, start + 1);
  if (start < 0 || end < 0) return undefined;
  return { id: name.slice(start + 1, end), rest: name.slice(0, start) + name.slice(end + 1) };
}

/** Curator's `DistributedIdQueue`: `queue-|<id>|<seq>`, taken in put order whatever the id. */
export const idLayout: Layout = {
  order: (names) => ({
    ready: [...names].sort((a, b) => byText(idOf(a)?.rest ?? a, idOf(b)?.rest ?? b)),
    next: undefined,
  }),
};

/**
 * An id as Curator stores it in a node name: `/` and `|` become `_`.
 * @throws `InvalidArgumentError` for an id that is not a non-empty string
 */
export function idName(id: string): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidArgumentError('id must be a non-empty string');
  }
  return `${ITEM_PREFIX}${BAR}${storedId(id)}${BAR}`;
}

/** `id` with the characters a node name cannot carry here replaced, as Curator does. */
export function storedId(id: string): string {
  return id.replaceAll('/', '_').replaceAll(BAR, '_');
}

function seqOf(name: string): string {
  return name.slice(-SEQ_DIGITS);
}
