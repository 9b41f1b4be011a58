import { connect, type Socket } from 'node:net';
import { ConnectionLossError, type ConnectionState, type ZkClient } from '@zkit/core';
import { SessionNotExpiredError } from './errors.js';
import { parseAddress } from './four-letter-word.js';
import { settlesWithin } from './sleep.js';

/** Options of {@link expireSession}. */
export interface ExpireSessionOptions {
  /**
   * Give up after this many milliseconds (default: twice the session timeout, at least 10 s).
   */
  timeout?: number;
  /**
   * Where the twin handle connects (default: the client's own connect string). Set it to the
   * server's address when the client goes through a partitioned `FaultProxy`.
   */
  connectString?: string;
}

/**
 * Expires a live client's session for real, on the server: its ephemeral nodes are deleted and
 * its watches dropped, exactly as after a long network partition, but in about a second.
 *
 * How: a "twin" connection attaches to the same session with the client's session id and
 * password and asks the server to close the session, in one write. The server serves the two in
 * order, so the client cannot win the session back in between (a close from a server that no
 * longer owns the session would be refused). The twin tries again, on the next server, until the
 * server says the session is gone; then this waits for the client itself to report `lost`.
 *
 * What the client does next is its own business; a `@zkit/core` client opens a new session and
 * reports `reconnected`.
 *
 * @throws {@link SessionNotExpiredError} when the client has not reported `lost` within
 *   `timeout` (the message lists what each twin got); `ConnectionLossError` when the client has
 *   no session to expire.
 * @example
 * ```ts
 * const before = client.sessionId;
 * await expireSession(client);
 * await waitFor(() => client.state === 'reconnected');
 * expect(client.sessionId).not.toBe(before);
 * ```
 */
export async function expireSession(
  client: ZkClient,
  options: ExpireSessionOptions = {},
): Promise<void> {
  const credentials = client.sessionCredentials();
  const sessionTimeout = client.sessionTimeout;
  const timeout = options.timeout ?? Math.max(10_000, 2 * sessionTimeout);
  const servers = hostsOf(options.connectString ?? client.connectString);
  const deadline = Date.now() + timeout;
  let lost = false;
  let onState: (now: ConnectionState) => void = () => undefined;
  const reportedLost = new Promise<void>((resolve) => {
    onState = (now) => {
      if (now !== 'lost') return;
      lost = true;
      resolve();
    };
  });
  client.on('state', onState);
  const outcomes: string[] = [];
  try {
    let gone = false;
    for (let attempt = 0; !lost; attempt += 1) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new SessionNotExpiredError(
          `Session 0x${credentials.id} was not reported lost within ${timeout} ms ` +
            `(twins: ${outcomes.join(', ') || 'none'}; client state '${client.state}')`,
        );
      }
      if (!gone) {
        const server = servers[attempt % servers.length] as string;
        const outcome = await closeSessionOn(server, credentials, sessionTimeout, left);
        outcomes.push(`${server} ${outcome}`);
        gone = outcome === 'closed' || outcome === 'expired';
        if (!gone) continue;
      }
      // The client hears it when its server drops the connection of the closed session, or at
      // its next attempt to reconnect.
      await settlesWithin(reportedLost, Math.max(0, Math.min(left, sessionTimeout)));
    }
  } finally {
    client.off('state', onState);
  }
}

/** Each server of a connect string (a chroot suffix is ignored), as `host:port`. */
function hostsOf(connectString: string): string[] {
  const slash = connectString.indexOf('/');
  const hosts = (slash < 0 ? connectString : connectString.slice(0, slash))
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hosts.length === 0) {
    throw new ConnectionLossError({ cause: `no server in '${connectString}'` });
  }
  return hosts;
}

/** The close request's xid and opcode. */
const CLOSE_XID = 1;
const CLOSE_SESSION = -11;

/**
 * One twin: a connect request for the session followed at once by a close request. Resolves with
 * `closed` (the server closed the session), `expired` (it was gone already), or why not.
 */
function closeSessionOn(
  server: string,
  credentials: { id: string; password: string },
  sessionTimeout: number,
  timeoutMs: number,
): Promise<string> {
  const { host, port } = parseAddress(server);
  const password = Buffer.from(credentials.password, 'hex');
  // ConnectRequest: protocol version, last zxid seen, timeout, session id, password, read-only.
  const connectBody = Buffer.alloc(4 + 8 + 4 + 8 + 4 + password.length + 1);
  let at = connectBody.writeInt32BE(0, 0);
  at = connectBody.writeBigInt64BE(0n, at);
  at = connectBody.writeInt32BE(sessionTimeout, at);
  at = connectBody.writeBigUInt64BE(BigInt(`0x${credentials.id}`), at);
  at = connectBody.writeInt32BE(password.length, at);
  at += password.copy(connectBody, at);
  connectBody.writeUInt8(0, at);
  const close = Buffer.alloc(8);
  close.writeInt32BE(CLOSE_XID, 0);
  close.writeInt32BE(CLOSE_SESSION, 4);
  const frames = Buffer.concat([frame(connectBody), frame(close)]);

  return new Promise<string>((resolve) => {
    let socket: Socket | undefined = undefined;
    let received = Buffer.alloc(0);
    let connected = false;
    const finish = (outcome: string): void => {
      clearTimeout(timer);
      socket?.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('no answer'), Math.min(timeoutMs, 5000));
    socket = connect({ host, port }, () => socket?.write(frames));
    socket.on('error', (error) => finish(`error: ${error.message}`));
    socket.on('close', () => finish(connected ? 'dropped after attaching' : 'dropped'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (;;) {
        if (received.length < 4) return;
        const size = received.readInt32BE(0);
        if (received.length < 4 + size) return;
        const body = received.subarray(4, 4 + size);
        received = received.subarray(4 + size);
        if (!connected) {
          // ConnectResponse: protocol version, negotiated timeout (0: no such session), …
          connected = true;
          if (body.readInt32BE(4) <= 0) {
            finish('expired');
            return;
          }
          continue;
        }
        // ReplyHeader: xid, zxid, error code.
        if (body.readInt32BE(0) !== CLOSE_XID) continue;
        const code = body.readInt32BE(12);
        finish(code === 0 ? 'closed' : `refused (${code})`);
        return;
      }
    });
  });
}

function frame(body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length, 0);
  return Buffer.concat([length, body]);
}
