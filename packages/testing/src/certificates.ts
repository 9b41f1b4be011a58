import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { guardDir, releaseDir } from './process-guard.js';

const run = promisify(execFile);

/** A certificate and its private key, PEM. */
export interface IssuedCertificate {
  /** The certificate, PEM. */
  readonly cert: string;
  /** The unencrypted private key (PKCS #8), PEM. */
  readonly key: string;
  /**
   * The certificate's subject as ZooKeeper's `x509` scheme names it (the RFC 2253 form of the
   * distinguished name, e.g. `CN=alice`): the `id` of an `x509` ACL entry.
   */
  readonly subject: string;
}

/** Days a throw-away certificate is valid: it outlives any test run. */
const VALID_DAYS = 2;

/**
 * A throw-away certificate authority for tests, made at run time with the `openssl` command:
 * its certificate, and certificates it issues for servers and clients (P-256 keys, valid for
 * `127.0.0.1` and `localhost`, so hostname checks pass on both sides). Files live in a temp
 * directory removed by {@link remove}.
 *
 * @example
 * ```ts
 * await using ca = await TestCertificates.create();
 * await using server = await ZooKeeperServer.start({ tls: ca });
 * const alice = await ca.issue('alice');
 * const client = new ZkClient(server.secureConnectString as string, {
 *   tls: { ca: ca.ca, cert: alice.cert, key: alice.key },
 * });
 * ```
 */
export class TestCertificates implements AsyncDisposable {
  /** The authority's certificate, PEM: what clients and servers trust. */
  readonly ca: string;
  /** The file holding {@link ca}. */
  readonly caFile: string;
  readonly #dir: string;
  #serial = 0;
  #removed = false;

  private constructor(dir: string, ca: string) {
    this.#dir = dir;
    this.ca = ca;
    this.caFile = join(dir, 'ca.crt');
  }

  /**
   * Makes a new authority (`CN=<name>`, default `zkit test CA`).
   *
   * @throws the `openssl` command's failure (e.g. `ENOENT` when it is not installed)
   */
  static async create(options: { name?: string } = {}): Promise<TestCertificates> {
    const dir = await mkdtemp(join(tmpdir(), 'zkit-ca-'));
    guardDir(dir);
    try {
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        join(dir, 'ca.crt'),
        '-days',
        String(VALID_DAYS),
        '-subj',
        `/CN=${options.name ?? 'zkit test CA'}`,
      ]);
      return new TestCertificates(dir, await readFile(join(dir, 'ca.crt'), 'utf8'));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      releaseDir(dir);
      throw error;
    }
  }

  /** Issues a certificate with subject `CN=<commonName>`, valid for server and client use. */
  async issue(commonName: string): Promise<IssuedCertificate & { keyStoreFile: string }> {
    if (!/^[A-Za-z0-9 ._-]+$/.test(commonName)) {
      throw new TypeError(
        `a common name of letters, digits, spaces, '.', '_' or '-', got ${commonName}`,
      );
    }
    const n = ++this.#serial;
    const base = join(this.#dir, `cert-${n}`);
    await writeFile(
      `${base}.ext`,
      'subjectAltName=IP:127.0.0.1,DNS:localhost\n' +
        'extendedKeyUsage=serverAuth,clientAuth\n' +
        'keyUsage=digitalSignature,keyEncipherment\n',
    );
    await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `/CN=${commonName}`,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      this.caFile,
      '-CAkey',
      join(this.#dir, 'ca.key'),
      '-set_serial',
      String(n),
      '-days',
      String(VALID_DAYS),
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.crt`,
    ]);
    const [cert, key] = await Promise.all([
      readFile(`${base}.crt`, 'utf8'),
      readFile(`${base}.key`, 'utf8'),
    ]);
    // What a ZooKeeper server reads as a PEM key store: the key, then the certificate.
    const keyStoreFile = `${base}.pem`;
    await writeFile(keyStoreFile, key + cert);
    return { cert, key, subject: `CN=${commonName}`, keyStoreFile };
  }

  /** Removes the files. Idempotent. */
  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    await rm(this.#dir, { recursive: true, force: true });
    releaseDir(this.#dir);
  }

  /** Same as {@link remove}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.remove();
  }
}
