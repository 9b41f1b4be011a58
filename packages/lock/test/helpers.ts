import { NoNodeError, type ZkClient } from '@zkit/core';
import { fourLetterWord } from '@zkit/testing';
import type { Lease } from '../src/index.js';

/** The children of `path`, or `[]` when it does not exist. */
export async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return await client.getChildren(path);
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

/** Whether a promise has settled, without waiting for it. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const result = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(marker))),
  ]);
  return result !== marker;
}

/**
 * Counts exclusion violations the way the S2 benchmark does: the holder flag is checked and set
 * in one synchronous step, so the check itself cannot produce false positives. Also checks that
 * fencing tokens strictly increase from one holder to the next.
 */
export class ExclusionCheck {
  violations = 0;
  tokenViolations = 0;
  acquisitions = 0;
  #holder: string | undefined;
  #lastToken = -1n;

  enter(who: string, lease: Lease): void {
    if (this.#holder !== undefined) this.violations++;
    this.#holder = who;
    if (lease.fencingToken <= this.#lastToken) this.tokenViolations++;
    this.#lastToken = lease.fencingToken;
    this.acquisitions++;
  }

  leave(who: string): void {
    if (this.#holder !== who) this.violations++;
    this.#holder = undefined;
  }
}

/** Rejection reason of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * How many packets the server has received on `client`'s connection (the `recved` figure of
 * `cons`): requests, and pings when the connection is idle for a third of the session timeout.
 */
export async function packetsReceived(server: string, client: ZkClient): Promise<number> {
  const text = await fourLetterWord(server, 'cons', { timeout: 10_000 });
  const line = text.split('\n').find((l) => l.includes(`sid=0x${client.sessionId},`));
  const match = line && /recved=(\d+)/.exec(line);
  if (!match) throw new Error(`no connection of session 0x${client.sessionId} in ${text}`);
  return Number(match[1]);
}
