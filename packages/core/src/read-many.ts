import type { ZkClient } from './client.js';
import { ClientClosedError, InvalidArgumentError, NoNodeError, type ZkError } from './errors.js';
import { clientWire } from './internal.js';
import { validatePath } from './paths.js';
import { combineSignals, type WaitOptions } from './signals.js';
import type { Stat } from './stat.js';
import type { MultiReadResult } from './transport.js';

/** One node read by {@link getMany}: its data and stat, or `undefined` where it does not exist. */
export interface NodeData {
  readonly data: Buffer;
  readonly stat: Stat;
}

/** How many nodes one multi-read asks for (a reply stays far below the frame limit). */
const READS_PER_REQUEST = 128;

/** Clients whose server refused multi-read (older than 3.6): they read node by node. */
const noMultiRead = new WeakSet<ZkClient>();

/**
 * Reads the data and stat of every path, in as few round trips as ZooKeeper allows: on the wire
 * transport, one multi-read (ZooKeeper 3.6+) per 128 paths, all sent at once on the client's own
 * session with its retry policy; otherwise (the native transport, or a server older than 3.6,
 * remembered per client) one `get` per path, all sent at once. Results are in the order of
 * `paths`, `undefined` for a node that does not exist. No watch is set.
 *
 * **Consistency.** Each multi-read answers from one point of the server's state, and the
 * session's requests are answered in order: a result is never older than what the client read
 * before the call. Unlike {@link getChildrenData} there is no `sync` first: the result may not
 * yet include a change another client made a moment ago (call `client.sync(path)` first when
 * that matters).
 *
 * @example
 * ```ts
 * const [a, b] = await getMany(client, ['/config/a', '/config/b']);
 * console.log(a?.data.toString('utf8'), b?.stat.version);
 * ```
 *
 * @throws `InvalidPathError` for a bad path, `InvalidArgumentError` when `paths` is not an
 * array (synchronously checked, before anything is sent); `ClientClosedError`, the client's
 * connection errors after its retries, and any server error other than NoNode on a node (e.g.
 * `NoAuthError`); the signal's reason or `TimeoutError`
 */
export async function getMany(
  client: ZkClient,
  paths: readonly string[],
  options: WaitOptions = {},
): Promise<(NodeData | undefined)[]> {
  if (!Array.isArray(paths)) throw new InvalidArgumentError('paths must be an array of paths');
  for (const path of paths) validatePath(path);
  const signal = combineSignals(options);
  if (paths.length === 0) return [];
  if (client.state === 'closed') throw new ClientClosedError();
  const wire = clientWire.get(client);
  if (wire && !noMultiRead.has(client)) {
    const batches: Promise<MultiReadResult[]>[] = [];
    for (let at = 0; at < paths.length; at += READS_PER_REQUEST) {
      const batch = paths.slice(at, at + READS_PER_REQUEST);
      batches.push(
        wire.run('multiRead', batch[0] as string, signal, (t) =>
          t.multiRead(batch.map((path) => withNamespace(client.namespace, path))),
        ),
      );
    }
    for (const b of batches) b.catch(() => undefined);
    try {
      const results = (await Promise.all(batches)).flat();
      return results.map((result) => {
        if (result.error === undefined) return { data: result.data, stat: result.stat };
        if (result.error instanceof NoNodeError) return undefined;
        throw result.error;
      });
    } catch (error) {
      if ((error as ZkError).code !== 'UNIMPLEMENTED') throw error;
      noMultiRead.add(client);
    }
  }
  return Promise.all(
    paths.map((path) =>
      client.get(path, signal ? { signal } : {}).catch((error: unknown) => {
        if (error instanceof NoNodeError) return undefined;
        throw error;
      }),
    ),
  );
}

function withNamespace(namespace: string, path: string): string {
  if (namespace === '') return path;
  return path === '/' ? namespace : namespace + path;
}

/**
 * Whether the client's recursive watches ({@link watchRecursive}) and its reads share one
 * session, as on the wire transport: a watch event then never arrives before the client can
 * read the change it reports. On the native transport the watches live on an extra connection
 * whose server may be ahead of the client's: call `client.sync(path)` before reading what an
 * event names.
 *
 * @example
 * ```ts
 * if (!watchesOnOwnSession(client)) await client.sync('/config');
 * const [node] = await getMany(client, ['/config/db']);
 * ```
 */
export function watchesOnOwnSession(client: ZkClient): boolean {
  return clientWire.has(client);
}
