/**
 * Stable codes of the errors thrown by `@zkit/testing`. Match on `error.code`, never on the
 * message text.
 */
export type TestingErrorCode =
  | 'ZOOKEEPER_NOT_FOUND'
  | 'JAVA_NOT_FOUND'
  | 'SERVER_START_FAILED'
  | 'SERVER_NOT_RUNNING'
  | 'FOUR_LETTER_WORD_FAILED'
  | 'WAIT_TIMEOUT'
  | 'SESSION_NOT_EXPIRED'
  | 'MISNAMED_VARIABLE';

/** Base class of every error thrown by `@zkit/testing`. */
export class TestingError extends Error {
  /** Stable, machine-readable code. */
  readonly code: TestingErrorCode;

  constructor(code: TestingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

const INSTALL_HINT =
  'Install it with `sudo apt-get install zookeeper` (Debian/Ubuntu), or download a release ' +
  'from https://zookeeper.apache.org/releases.html, unpack it and set ZOOKEEPER_HOME to the ' +
  'unpacked directory. To test against a server that is already running instead, set ' +
  'ZOOKEEPER_CONNECT=host:port.';

/**
 * No ZooKeeper installation was found: neither `ZOOKEEPER_HOME` (a release with `lib/*.jar`) nor
 * the Debian/Ubuntu layout (`/usr/share/zookeeper`, jars in `/usr/share/java`).
 */
export class ZooKeeperNotFoundError extends TestingError {
  /** The places that were looked at, in order. */
  readonly searched: readonly string[];

  constructor(reason: string, searched: readonly string[]) {
    super(
      'ZOOKEEPER_NOT_FOUND',
      `ZooKeeper was not found: ${reason}. Looked in: ${searched.join(', ')}. ${INSTALL_HINT}`,
    );
    this.searched = searched;
  }
}

/** No Java runtime, or one older than the minimum ZooKeeper 3.8 needs (11). */
export class JavaNotFoundError extends TestingError {
  constructor(reason: string, options?: ErrorOptions) {
    super(
      'JAVA_NOT_FOUND',
      `A Java runtime 11 or newer is needed to run ZooKeeper: ${reason}. Install one with ` +
        '`sudo apt-get install default-jre-headless` (Debian/Ubuntu; installing the `zookeeper` ' +
        'package pulls it in too), or set JAVA_HOME to a JDK/JRE 11+ directory.',
      options,
    );
  }
}

/**
 * A server JVM exited, or did not become ready in time. The message ends with the last lines the
 * server printed, which usually name the cause (bad config value, port in use, …).
 */
export class ServerStartError extends TestingError {
  /** The last lines of the server's output. */
  readonly output: readonly string[];

  constructor(reason: string, output: readonly string[], options?: ErrorOptions) {
    const tail = output.length > 0 ? `\n--- last server output ---\n${output.join('\n')}` : '';
    super('SERVER_START_FAILED', `ZooKeeper server failed to start: ${reason}${tail}`, options);
    this.output = output;
  }
}

/**
 * A control needs a running server: `pause()` or `resume()` while the JVM is down, or anything
 * but `stop()` after `stop()` (which removes the server's files).
 */
export class ServerNotRunningError extends TestingError {
  constructor(action: string, reason: string) {
    super('SERVER_NOT_RUNNING', `Cannot ${action}: ${reason}`);
  }
}

/** A four-letter-word command got no complete answer (refused, reset or timed out). */
export class FourLetterWordError extends TestingError {
  constructor(command: string, address: string, reason: string, options?: ErrorOptions) {
    super('FOUR_LETTER_WORD_FAILED', `'${command}' to ${address} failed: ${reason}`, options);
  }
}

/** `waitFor` ran out of time before its condition held. */
export class WaitTimeoutError extends TestingError {
  constructor(message: string, options?: ErrorOptions) {
    super('WAIT_TIMEOUT', message, options);
  }
}

/** `expireSession` could not make the client report `lost` in time. */
export class SessionNotExpiredError extends TestingError {
  constructor(message: string, options?: ErrorOptions) {
    super('SESSION_NOT_EXPIRED', message, options);
  }
}

/**
 * A connect string was given under a name zkit does not read (`ZK_CONNECT`, `ZOOKEEPER`, …):
 * rather than start a server of its own and ignore it, `@zkit/testing` stops and names the one
 * variable it reads, `ZOOKEEPER_CONNECT`.
 */
export class MisnamedVariableError extends TestingError {
  /** The variable that was set. */
  readonly variable: string;

  constructor(variable: string) {
    super(
      'MISNAMED_VARIABLE',
      `${variable} is set, but zkit reads the connect string from ZOOKEEPER_CONNECT only: ` +
        `rename it (ZOOKEEPER_CONNECT=host:port), or unset it to start a local server.`,
    );
    this.variable = variable;
  }
}
