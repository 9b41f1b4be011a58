import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { test } from '@zkit/testing/vitest';
import {
  ChrootMissingError,
  ConnectTimeoutError,
  InvalidArgumentError,
  NoNodeError,
  ZkClient,
  ZkError,
  ZkTimeoutError,
} from '@zkit/core';

/** A loopback port nobody listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connect string', () => {
  it.each([
    ['not a connect string', /bad server "not a connect string".*not a host name/],
    ['http://zk1:2181', /looks like a URL; give host:port/],
    ['zk://zk1:2181/app', /looks like a URL/],
    ['zk1:2181,,zk2:2181', /bad server "".*empty entry/],
    ['zk1:', /bad server "zk1:".*port must be a number/],
    ['zk1:99999', /bad server "zk1:99999".*port must be a number/],
    ['zk1:21a81', /port must be a number/],
    ['::1:2181', /IPv6 address goes in brackets/],
    ['[zk1]:2181', /is not an IPv6 address/],
    ['zk1:2181;zk2:2181', /expected host:port/],
    [' ', /non-empty string/],
  ])('client - %j is refused by the constructor', (connectString, message) => {
    let thrown: unknown;
    try {
      new ZkClient(connectString);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as Error).message).toMatch(message);
  });

  it.each([
    'localhost',
    'zk1:2181,zk2:2182,zk3',
    '127.0.0.1:2181/app/a',
    '[::1]:2181,[fe80::1]',
    'zk1:2181/',
    'zk-1.example.com:2181',
  ])('client - %j is accepted (the port defaults to 2181)', (connectString) => {
    expect(() => new ZkClient(connectString)).not.toThrow();
  });

  it('client - a bad chroot is refused as a path', () => {
    expect(() => new ZkClient('zk1:2181/app/')).toThrow(ZkError);
  });
});

describe('unreachable servers', () => {
  it('client - start() names each server and why it failed after connectTimeout', async () => {
    const port = await deadPort();
    const client = new ZkClient(`127.0.0.1:${port},zk.invalid:2181`, {
      connectTimeout: 1500,
      transport: 'wire',
    });
    const started = Date.now();
    const error = await client.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error).toBeInstanceOf(ZkTimeoutError);
    expect(error).toBeInstanceOf(ZkError);
    const e = error as ConnectTimeoutError;
    expect(e.name).toBe('TimeoutError');
    expect(e.code).toBe('CONNECT_TIMEOUT');
    expect(e.message).toContain('within 1500 ms');
    expect(e.message).toContain(`127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(e.message).toMatch(/zk\.invalid:2181: getaddrinfo (ENOTFOUND|EAI_AGAIN)/);
    expect(e.servers.map((s) => s.server)).toEqual([`127.0.0.1:${port}`, 'zk.invalid:2181']);
    expect(client.state).toBe('closed');
  });

  it('client - the native transport names the servers it tried', async () => {
    const port = await deadPort();
    const client = new ZkClient(`127.0.0.1:${port}`, { connectTimeout: 1000, transport: 'native' });
    const error = await client.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as Error).message).toContain(`tried 127.0.0.1:${port}`);
    expect((error as Error).message).toContain('does not report why');
  });

  it.each(['wire', 'native'])(
    'client - a program whose start() cannot connect prints the error and exits non-zero by itself (%s)',
    async (transport) => {
      const port = await deadPort();
      const entry = new URL('../dist/index.js', import.meta.url).href;
      // The shape of the getting-started program: top-level await, nothing else to do.
      const script = `
        const { ZkClient } = await import(${JSON.stringify(entry)});
        const client = new ZkClient(process.env.ZOOKEEPER_CONNECT, {
          connectTimeout: 1000,
          transport: ${JSON.stringify(transport)},
        });
        await client.start();
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ZOOKEEPER_CONNECT: `127.0.0.1:${port}` },
      });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(err).toContain('ConnectTimeoutError');
      expect(err).toContain(`127.0.0.1:${port}`);
      expect(code).toBe(1);
    },
  );

  it('client - a program with a malformed connect string fails at once with the reason', async () => {
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      const { ZkClient } = await import(${JSON.stringify(entry)});
      const client = new ZkClient(process.env.ZOOKEEPER_CONNECT, { transport: 'native' });
      await client.start();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZOOKEEPER_CONNECT: 'not a connect string' },
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(err).toContain('bad server "not a connect string"');
    expect(code).toBe(1);
  });
});

describe('chroot', () => {
  test('client - a create under a chroot that does not exist names the chroot', async ({ zk }) => {
    const client = await zk.client({ connectString: `${zk.serverConnectString}/no-such-chroot` });
    const error = await client.create('/locks/x', 'a', { parents: 'container' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChrootMissingError);
    expect(error).toBeInstanceOf(NoNodeError);
    expect((error as Error).message).toContain('the chroot /no-such-chroot does not exist');
    await expect(client.create('/x')).rejects.toThrow(/chroot \/no-such-chroot does not exist/);
    // A missing node elsewhere is still a plain NoNodeError.
    const inChroot = await zk.client();
    const nested = await inChroot.create('/a/b', '', { parents: false }).catch((e: unknown) => e);
    expect(nested).toBeInstanceOf(NoNodeError);
    expect(nested).not.toBeInstanceOf(ChrootMissingError);
  });
});

describe('whenConnected timeouts', () => {
  test('client - whenConnected({ timeout: 0 }) resolves when connected and fails at once otherwise', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.whenConnected({ timeout: 0 });
    const idle = new ZkClient(zk.connectString);
    const error = await idle.whenConnected({ timeout: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZkTimeoutError);
    expect((error as Error).name).toBe('TimeoutError');
    expect((error as Error).message).toBe(
      `ZkClient ${zk.connectString}: not connected within 0 ms`,
    );
    const later = await idle.whenConnected({ timeout: 50 }).catch((e: unknown) => e);
    expect((later as Error).message).toBe(
      `ZkClient ${zk.connectString}: not connected within 50 ms`,
    );
  });
});
