/** Options shared by {@link ZooKeeperServer.start} and {@link ZooKeeperEnsemble.start}. */
export interface ServerOptions {
  /**
   * `tickTime` in milliseconds. Default 100 with `testDefaults` (sessions may then be as short as
   * 200 ms and expire promptly), else ZooKeeper's own 2000.
   */
  tickTime?: number;
  /**
   * Extra `zoo.cfg` entries; a key that is already written is replaced in place. Keys unknown to
   * ZooKeeper become `zookeeper.<key>` system properties, which is how some settings are reached.
   */
  config?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Tune the server for tests (default `true`): `forceSync=no`, `preAllocSize=1024` (1 MB
   * transaction-log preallocation instead of 64 MB), `maxSessionTimeout=60000` (a tick of 100 ms
   * would otherwise cap sessions at 2 s), a container/TTL sweep every 100 ms, and a JVM tuned for
   * start-up rather than throughput. With `false` the config is ZooKeeper's untuned one (tickTime
   * 2000, default sync, JVM defaults), which benchmarks compare against.
   */
  testDefaults?: boolean;
  /**
   * How often the server reaps empty containers and expired TTL nodes, in milliseconds (default
   * 100 with `testDefaults`, else ZooKeeper's 60 000). Passed as the JVM flag
   * `-Dznode.container.checkIntervalMs`, because ZooKeeper ignores it in `zoo.cfg`.
   */
  containerCheckIntervalMs?: number;
  /** Extra JVM flags, appended after the package's own (so a later `-D` or `-X` wins). */
  jvmFlags?: readonly string[];
  /** How long to wait for the server to serve requests, in milliseconds (default 30 000). */
  startTimeout?: number;
}

/** Default time allowed for a JVM to start serving. A cold JVM on a busy 2-core box needs seconds. */
export const DEFAULT_START_TIMEOUT = 30_000;

/** Ordered `zoo.cfg` entries. */
export type ConfigEntries = [key: string, value: string][];

/** The entries every server gets, in the order the untuned benchmark config lists them. */
export function baseEntries(
  options: ServerOptions,
  where: { dataDir: string; clientPort: number },
): ConfigEntries {
  const testDefaults = options.testDefaults ?? true;
  const entries: ConfigEntries = [
    ['tickTime', String(options.tickTime ?? (testDefaults ? 100 : 2000))],
    ['dataDir', where.dataDir],
    ['clientPort', String(where.clientPort)],
    ['clientPortAddress', '127.0.0.1'],
    ['admin.enableServer', 'false'],
    ['4lw.commands.whitelist', '*'],
    ['extendedTypesEnabled', 'true'],
  ];
  if (testDefaults) {
    entries.push(['forceSync', 'no'], ['preAllocSize', '1024'], ['maxSessionTimeout', '60000']);
  }
  return entries;
}

/** Applies user overrides (replacing keys in place, appending new ones) and renders the file. */
export function renderConfig(
  entries: ConfigEntries,
  overrides: Readonly<Record<string, string | number | boolean>> = {},
): string {
  const result = entries.map(([key, value]): [string, string] => [key, value]);
  for (const [key, value] of Object.entries(overrides)) {
    const text = String(value);
    if (/[\r\n]/.test(key) || /[\r\n]/.test(text)) {
      throw new TypeError(`zoo.cfg entry '${key}' must be on one line`);
    }
    const existing = result.find(([k]) => k === key);
    if (existing) existing[1] = text;
    else result.push([key, text]);
  }
  return result.map(([key, value]) => `${key}=${value}\n`).join('');
}

/** Returns `tickTime` as the config will hold it, after overrides. */
export function effectiveTickTime(options: ServerOptions): number {
  const override = options.config?.['tickTime'];
  if (override !== undefined) return Number(override);
  return options.tickTime ?? ((options.testDefaults ?? true) ? 100 : 2000);
}

/** JVM flags before the main class. */
export function jvmFlags(options: ServerOptions): string[] {
  const testDefaults = options.testDefaults ?? true;
  const flags: string[] = [];
  const interval = options.containerCheckIntervalMs ?? (testDefaults ? 100 : undefined);
  if (interval !== undefined) flags.push(`-Dznode.container.checkIntervalMs=${interval}`);
  if (testDefaults) {
    // A test server lives seconds and serves little: the C1 compiler alone, a serial collector
    // and no perf-data file make the JVM start faster and use less memory on small machines.
    flags.push('-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-UsePerfData');
  }
  return [...flags, ...(options.jvmFlags ?? [])];
}
