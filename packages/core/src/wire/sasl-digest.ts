/**
 * The client side of SASL DIGEST-MD5 (RFC 2831), as ZooKeeper servers speak it: no initial
 * response, one challenge answered with the digest, then the server's proof (`rspauth`) checked,
 * quality of protection `auth` only (authentication, no integrity or privacy layer).
 *
 * ZooKeeper's server and Java client name the service `zookeeper` on the host `zk-sasl-md5`,
 * whatever the server's real name: the digest URI is `zookeeper/zk-sasl-md5`, and the realm is
 * the one the server's challenge offers (also `zk-sasl-md5`).
 *
 * @internal
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthFailedError } from '../errors.js';

/** The digest URI ZooKeeper's servers expect. */
const DIGEST_URI = 'zookeeper/zk-sasl-md5';
/** Our only nonce count: one authentication per nonce. */
const NONCE_COUNT = '00000001';

/** One DIGEST-MD5 exchange; a new one per connection. */
export class DigestMd5Client {
  readonly #username: string;
  readonly #password: string;
  #expectedProof: string | undefined;
  #complete = false;

  constructor(username: string, password: string) {
    this.#username = username;
    this.#password = password;
  }

  /** Whether the server proved it knows the password too: the exchange is over. */
  get complete(): boolean {
    return this.#complete;
  }

  /**
   * The token to send for the server's `token`: the digest response for the challenge, then
   * nothing (`undefined`) once the server's proof checks out.
   *
   * @throws {@link AuthFailedError} for a challenge without a nonce or without `auth`
   *   protection, for a wrong proof, or for a token after the end
   */
  respond(token: Buffer): Buffer | undefined {
    const fields = parseFields(token.toString('utf8'));
    if (this.#expectedProof !== undefined) {
      const proof = Buffer.from(fields.get('rspauth') ?? '', 'latin1');
      const expected = Buffer.from(this.#expectedProof, 'latin1');
      if (proof.length !== expected.length || !timingSafeEqual(proof, expected)) {
        throw new AuthFailedError({ cause: 'the server did not prove it knows the password' });
      }
      this.#complete = true;
      return undefined;
    }
    if (this.#complete) throw new AuthFailedError({ cause: 'a SASL token after the end' });
    const nonce = fields.get('nonce');
    if (nonce === undefined)
      throw new AuthFailedError({ cause: 'a DIGEST-MD5 challenge without a nonce' });
    const qops = (fields.get('qop') ?? 'auth').split(',').map((q) => q.trim());
    if (!qops.includes('auth')) {
      throw new AuthFailedError({
        cause: `the server offers no plain authentication (qop ${qops.join(',')})`,
      });
    }
    const realm = fields.get('realm') ?? '';
    const utf8 = fields.get('charset')?.toLowerCase() === 'utf-8';
    const cnonce = randomBytes(16).toString('base64');
    const secret = md5(
      Buffer.from(
        `${encode(this.#username, utf8)}:${encode(realm, utf8)}:${encode(this.#password, utf8)}`,
        'latin1',
      ),
    );
    const a1 = Buffer.concat([secret, Buffer.from(`:${nonce}:${cnonce}`, 'utf8')]);
    const digest = (a2: string) =>
      md5hex(`${md5hex(a1)}:${nonce}:${NONCE_COUNT}:${cnonce}:auth:${md5hex(a2)}`);
    this.#expectedProof = digest(`:${DIGEST_URI}`);
    const parts = [
      ...(utf8 ? ['charset=utf-8'] : []),
      `username=${quote(this.#username)}`,
      ...(fields.has('realm') ? [`realm=${quote(realm)}`] : []),
      `nonce=${quote(nonce)}`,
      `nc=${NONCE_COUNT}`,
      `cnonce=${quote(cnonce)}`,
      `digest-uri=${quote(DIGEST_URI)}`,
      'maxbuf=65536',
      `response=${digest(`AUTHENTICATE:${DIGEST_URI}`)}`,
      'qop=auth',
    ];
    return Buffer.from(parts.join(','), 'utf8');
  }
}

/** `key=value` pairs, values quoted or not, separated by commas (RFC 2831 §7.1). */
function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  const pair = /\s*([A-Za-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (pair.lastIndex < text.length && (m = pair.exec(text)) !== null) {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    // A directive given twice keeps its first value, except qop's options, which are a list.
    const key = (m[1] as string).toLowerCase();
    if (!fields.has(key)) fields.set(key, value);
  }
  return fields;
}

/**
 * A user name, realm or password as the digest hashes it: with `charset=utf-8`, text that fits
 * ISO 8859-1 is hashed as ISO 8859-1 and anything else as UTF-8 (RFC 2831 §2.1.2.1); as
 * characters of a latin1 string either way.
 */
function encode(text: string, utf8: boolean): string {
  // eslint-disable-next-line no-control-regex
  if (!utf8 || /^[\u0000-\u00ff]*$/.test(text)) return text;
  return Buffer.from(text, 'utf8').toString('latin1');
}

function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

function md5(data: Buffer | string): Buffer {
  return createHash('md5').update(data).digest();
}

function md5hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}
