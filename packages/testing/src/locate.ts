import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { JavaNotFoundError, MisnamedVariableError, ZooKeeperNotFoundError } from './errors.js';

/** A ZooKeeper installation and the Java runtime that will run it. */
export interface ZooKeeperInstallation {
  /** Where it was found: a release unpacked under `ZOOKEEPER_HOME`, or the Debian/Ubuntu package. */
  readonly kind: 'zookeeper-home' | 'debian';
  /** The installation directory (`ZOOKEEPER_HOME`, or `/usr/share/zookeeper`). */
  readonly home: string;
  /** Classpath entries (jars, plus the `conf` directory of a release for its logging config). */
  readonly classpath: readonly string[];
  /** The `java` executable. */
  readonly java: string;
  /** Major version of that Java runtime (11, 17, 21, …). */
  readonly javaVersion: number;
}

/** Where to look; every field defaults to the real environment. For tests of the lookup itself. */
export interface LocateOptions {
  /** Environment to read `ZOOKEEPER_HOME`, `JAVA_HOME` and `PATH` from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory of the Debian/Ubuntu package (default `/usr/share/zookeeper`). */
  debianHome?: string;
  /** Directory holding the Debian/Ubuntu jars (default `/usr/share/java`). */
  debianJars?: string;
}

const DEBIAN_HOME = '/usr/share/zookeeper';
const DEBIAN_JARS = '/usr/share/java';

// The smallest set of Debian jars the server boots with (slf4j-simple logs to the console). The
// whole of /usr/share/java also works but drags in hundreds of jars and several slf4j bindings.
const LEAN_DEBIAN_JARS = [
  'zookeeper',
  'zookeeper-jute',
  'slf4j-api',
  'slf4j-simple',
  'metrics-core',
  'commons-cli',
  'netty-handler',
  'netty-common',
  'netty-buffer',
  'netty-transport',
  'netty-codec',
  'netty-resolver',
  'netty-transport-native-epoll',
  'netty-transport-native-unix-common',
];

const MIN_JAVA = 11;

/** Names people give a connect string that zkit does not read. */
const MISNAMED = ['ZK_CONNECT', 'ZOOKEEPER', 'ZOOKEEPER_SERVERS', 'ZK_SERVERS', 'ZK_HOSTS'];

/**
 * The connect string of an external server to use instead of starting one, from the
 * `ZOOKEEPER_CONNECT` environment variable — the one name every zkit program, example and test
 * reads; `undefined` when it is unset or empty.
 *
 * @throws {@link MisnamedVariableError} when it is unset but a look-alike (`ZK_CONNECT`,
 *   `ZOOKEEPER`, …) is set, so that a server named there is never silently ignored
 */
export function externalConnectString(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const value = env['ZOOKEEPER_CONNECT']?.trim();
  if (value !== undefined && value !== '') return value;
  const misnamed = MISNAMED.find((name) => (env[name]?.trim() ?? '') !== '');
  if (misnamed !== undefined) throw new MisnamedVariableError(misnamed);
  return undefined;
}

let cached: Promise<ZooKeeperInstallation> | undefined;

/**
 * Finds ZooKeeper and a Java 11+ runtime to run it with.
 *
 * Order: `ZOOKEEPER_HOME` (a release tarball: `lib/*.jar`, `conf/`), then the Debian/Ubuntu
 * package (`/usr/share/zookeeper`, jars in `/usr/share/java`). Java comes from `JAVA_HOME`, else
 * from `java` on `PATH`. The result of a call without options is cached for the process.
 *
 * @throws {@link ZooKeeperNotFoundError} when no installation is found (the message says what to
 *   install), {@link JavaNotFoundError} when Java is missing or older than 11.
 */
export function locateZooKeeper(options?: LocateOptions): Promise<ZooKeeperInstallation> {
  if (options !== undefined) return locate(options);
  cached ??= locate({}).catch((error: unknown) => {
    // Do not cache a failure: the user may install ZooKeeper and retry in the same process.
    cached = undefined;
    throw error;
  });
  return cached;
}

async function locate(options: LocateOptions): Promise<ZooKeeperInstallation> {
  const env = options.env ?? process.env;
  const found = findZooKeeper(
    env,
    options.debianHome ?? DEBIAN_HOME,
    options.debianJars ?? DEBIAN_JARS,
  );
  const java = findJava(env);
  const javaVersion = await javaMajorVersion(java);
  if (javaVersion < MIN_JAVA) {
    throw new JavaNotFoundError(`${java} is Java ${javaVersion}`);
  }
  return { ...found, java, javaVersion };
}

function findZooKeeper(
  env: Readonly<Record<string, string | undefined>>,
  debianHome: string,
  debianJars: string,
): Pick<ZooKeeperInstallation, 'kind' | 'home' | 'classpath'> {
  const home = env['ZOOKEEPER_HOME']?.trim();
  if (home !== undefined && home !== '') {
    const lib = join(home, 'lib');
    const jars = listJars(lib);
    // An explicit ZOOKEEPER_HOME that is wrong is a mistake to report, not to silently skip.
    if (!jars.some((jar) => /[/\\]zookeeper-\d[^/\\]*\.jar$/.test(jar))) {
      throw new ZooKeeperNotFoundError(
        `ZOOKEEPER_HOME is set to '${home}', but ${lib} holds no zookeeper-<version>.jar`,
        [lib],
      );
    }
    const conf = join(home, 'conf');
    return {
      kind: 'zookeeper-home',
      home,
      classpath: existsSync(conf) ? [conf, ...jars] : jars,
    };
  }
  const mainJar = join(debianJars, 'zookeeper.jar');
  if (existsSync(debianHome) && existsSync(mainJar)) {
    const lean = LEAN_DEBIAN_JARS.map((name) => join(debianJars, `${name}.jar`));
    const classpath = lean.every((jar) => existsSync(jar)) ? lean : listJars(debianJars);
    return { kind: 'debian', home: debianHome, classpath };
  }
  throw new ZooKeeperNotFoundError('ZOOKEEPER_HOME is not set and no system package is installed', [
    'ZOOKEEPER_HOME',
    `${debianHome} + ${mainJar}`,
  ]);
}

function listJars(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.jar'))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

function findJava(env: Readonly<Record<string, string | undefined>>): string {
  const javaHome = env['JAVA_HOME']?.trim();
  if (javaHome !== undefined && javaHome !== '') {
    const java = join(javaHome, 'bin', 'java');
    if (!isExecutable(java)) {
      throw new JavaNotFoundError(
        `JAVA_HOME is set to '${javaHome}', but ${java} is not executable`,
      );
    }
    return java;
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const java = join(dir, 'java');
    if (isExecutable(java)) return java;
  }
  throw new JavaNotFoundError('JAVA_HOME is not set and there is no `java` on PATH');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function javaMajorVersion(java: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(java, ['-version'], { timeout: 15_000 }, (error, stdout, stderr) => {
      // `java -version` prints to stderr: `openjdk version "17.0.15" …` or `java version "1.8.0_392"`.
      const match = /version "(\d+)(?:\.(\d+))?/.exec(`${stderr}${stdout}`);
      if (error !== null || match === null) {
        reject(
          new JavaNotFoundError(`could not run '${java} -version'`, { cause: error ?? stderr }),
        );
        return;
      }
      const major = Number(match[1]);
      resolve(major === 1 ? Number(match[2] ?? 0) : major);
    });
  });
}
