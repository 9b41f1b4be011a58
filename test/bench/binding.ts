import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/**
 * A thin promise layer over the `zookeeper` binding's callback API — the floor under @zkit/core.
 * Only what the raw-client scenarios need; it adds nothing that would cost time.
 */

type Callback = (rc: number, error: string, ...results: unknown[]) => void;

interface BindingHandle extends EventEmitter {
  init(config: Record<string, unknown>): this;
  close(): void;
  a_exists(path: string, watch: boolean, cb: Callback): number;
  a_create(path: string, data: Buffer | string, flags: number, cb: Callback): number;
  a_delete_(path: string, version: number, cb: Callback): number;
  a_get(path: string, watch: boolean, cb: Callback): number;
  a_set(path: string, data: Buffer | string, version: number, cb: Callback): number;
}

interface BindingClass {
  new (config: Record<string, unknown>): BindingHandle;
}

const require = createRequire(import.meta.url);
const ZooKeeper = require('zookeeper') as BindingClass;

const ZOK = 0;
const ZNONODE = -101;
const ZNODEEXISTS = -110;
const ZOO_PERSISTENT = 0;
const ZOO_EPHEMERAL = 1;

export class BindingError extends Error {
  constructor(
    readonly rc: number,
    text: string,
    readonly path: string,
  ) {
    super(`${rc} ${text} (${path})`);
    this.name = 'BindingError';
  }
}

/** Runs one callback-API call as a promise; a synchronous negative return also rejects. */
function call<T>(
  path: string,
  start: (cb: Callback) => number,
  pick: (r: unknown[]) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const rc = start((code, text, ...results) => {
      if (code === ZOK) resolve(pick(results));
      else reject(new BindingError(code, text, path));
    });
    if (typeof rc === 'number' && rc < 0)
      reject(new BindingError(rc, 'rejected synchronously', path));
  });
}

export class BindingClient {
  private constructor(private readonly zk: BindingHandle) {}

  /** Opens a session and waits for the first `connect` (bounded by `connectTimeout`). */
  static async connect(
    connectString: string,
    sessionTimeout: number,
    connectTimeout = 15_000,
  ): Promise<BindingClient> {
    const zk = new ZooKeeper({
      connect: connectString,
      timeout: sessionTimeout,
      debug_level: 0,
      host_order_deterministic: false,
      response_counter_limit: 100_000,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        zk.close();
        reject(new Error(`binding: no connection to ${connectString} within ${connectTimeout} ms`));
      }, connectTimeout);
      zk.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      zk.init({});
    });
    return new BindingClient(zk);
  }

  exists(path: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const rc = this.zk.a_exists(path, false, (code, text) => {
        if (code === ZOK) resolve(true);
        else if (code === ZNONODE) resolve(false);
        else reject(new BindingError(code, text, path));
      });
      if (typeof rc === 'number' && rc < 0)
        reject(new BindingError(rc, 'rejected synchronously', path));
    });
  }

  create(path: string, data: Buffer | string, ephemeral: boolean): Promise<string> {
    const flags = ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT;
    return call(
      path,
      (cb) => this.zk.a_create(path, data, flags, cb),
      (r) => r[0] as string,
    );
  }

  /** Creates a persistent node unless it exists already. */
  async ensure(path: string): Promise<void> {
    try {
      await this.create(path, '', false);
    } catch (err) {
      if (!(err instanceof BindingError && err.rc === ZNODEEXISTS)) throw err;
    }
  }

  delete(path: string): Promise<void> {
    return call(
      path,
      (cb) => this.zk.a_delete_(path, -1, cb),
      () => undefined,
    );
  }

  get(path: string): Promise<Buffer> {
    return call(
      path,
      (cb) => this.zk.a_get(path, false, cb),
      (r) => r[1] as Buffer,
    );
  }

  set(path: string, data: Buffer | string): Promise<void> {
    return call(
      path,
      (cb) => this.zk.a_set(path, data, -1, cb),
      () => undefined,
    );
  }

  close(): Promise<void> {
    this.zk.close();
    return Promise.resolve();
  }
}
