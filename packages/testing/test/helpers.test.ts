import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  externalConnectString,
  fourLetterWord,
  FourLetterWordError,
  JavaNotFoundError,
  MisnamedVariableError,
  locateZooKeeper,
  parseMntr,
  waitFor,
  WaitTimeoutError,
  ZooKeeperNotFoundError,
} from '../src/index.js';

describe('waitFor', () => {
  test('waitFor - resolves with the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { interval: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  test('waitFor - times out with a typed error that keeps the last failure', async () => {
    const error: unknown = await waitFor(
      () => {
        throw new Error('not yet');
      },
      { timeout: 50, message: 'the impossible' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).code).toBe('WAIT_TIMEOUT');
    expect((error as Error).message).toMatch(/the impossible/);
    expect((error as Error).cause).toEqual(new Error('not yet'));
  });

  test('waitFor - rejects with the abort reason', async () => {
    const reason = new Error('stop');
    await expect(
      waitFor(() => false, { signal: AbortSignal.abort(reason), timeout: 1000 }),
    ).rejects.toBe(reason);
  });
});

describe('four-letter words', () => {
  test('mntr - parses key/value lines, numbers as numbers', () => {
    expect(
      parseMntr('zk_version\t3.8.0-abc, built on x\nzk_avg_latency\t0.5\nzk_znode_count\t5\n'),
    ).toEqual({ zk_version: '3.8.0-abc, built on x', zk_avg_latency: 0.5, zk_znode_count: 5 });
  });

  test('fourLetterWord - a refused connection is a typed error', async () => {
    // Port 1 on loopback: nothing listens there without root.
    await expect(fourLetterWord('127.0.0.1:1', 'srvr')).rejects.toBeInstanceOf(FourLetterWordError);
  });
});

describe('locate', () => {
  const nowhere = { debianHome: '/nonexistent/zookeeper', debianJars: '/nonexistent/java' };

  test('locate - ZOOKEEPER_CONNECT names an external server', () => {
    expect(externalConnectString({ ZOOKEEPER_CONNECT: ' zk:2181 ' })).toBe('zk:2181');
    expect(externalConnectString({ ZOOKEEPER_CONNECT: '' })).toBeUndefined();
    expect(externalConnectString({})).toBeUndefined();
  });

  test('locate - a connect string under another name is refused, not ignored', () => {
    for (const name of ['ZK_CONNECT', 'ZOOKEEPER']) {
      const error = (() => {
        try {
          externalConnectString({ [name]: 'zk:2181' });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(MisnamedVariableError);
      expect((error as MisnamedVariableError).variable).toBe(name);
      expect(String(error)).toContain('ZOOKEEPER_CONNECT');
    }
    // The right name wins; an empty look-alike is no setting.
    expect(externalConnectString({ ZOOKEEPER_CONNECT: 'a:1', ZK_CONNECT: 'b:2' })).toBe('a:1');
    expect(externalConnectString({ ZK_CONNECT: '' })).toBeUndefined();
  });

  test('locate - finds the system package and a Java 11+ runtime', async () => {
    const found = await locateZooKeeper({ env: { PATH: process.env['PATH'] } });
    expect(found.kind).toBe('debian');
    expect(found.classpath).toHaveLength(14);
    expect(found.javaVersion).toBeGreaterThanOrEqual(11);
  });

  test('locate - without an installation the error says what to install', async () => {
    const error: unknown = await locateZooKeeper({
      env: { PATH: process.env['PATH'] },
      ...nowhere,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZooKeeperNotFoundError);
    expect((error as ZooKeeperNotFoundError).code).toBe('ZOOKEEPER_NOT_FOUND');
    expect((error as Error).message).toMatch(/sudo apt-get install zookeeper/);
    expect((error as Error).message).toMatch(/ZOOKEEPER_HOME/);
  });

  test('locate - a ZOOKEEPER_HOME without jars is reported, not skipped', async () => {
    await expect(
      locateZooKeeper({ env: { ZOOKEEPER_HOME: '/nonexistent/home', PATH: '' } }),
    ).rejects.toThrow(/ZOOKEEPER_HOME is set to '\/nonexistent\/home'/);
  });

  test('locate - a release layout under ZOOKEEPER_HOME is used', async () => {
    const home = await mkdtemp(join(tmpdir(), 'zkit-home-'));
    try {
      await mkdir(join(home, 'lib'));
      await mkdir(join(home, 'conf'));
      await symlink('/usr/share/java/zookeeper.jar', join(home, 'lib', 'zookeeper-3.8.0.jar'));
      await symlink('/usr/share/java/slf4j-api.jar', join(home, 'lib', 'slf4j-api-1.7.30.jar'));
      const found = await locateZooKeeper({
        env: { ZOOKEEPER_HOME: home, PATH: process.env['PATH'] },
      });
      expect(found.kind).toBe('zookeeper-home');
      expect(found.classpath).toEqual([
        join(home, 'conf'),
        join(home, 'lib', 'slf4j-api-1.7.30.jar'),
        join(home, 'lib', 'zookeeper-3.8.0.jar'),
      ]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test('locate - without Java the error says what to install', async () => {
    const error: unknown = await locateZooKeeper({ env: { PATH: '/nonexistent' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JavaNotFoundError);
    expect((error as Error).message).toMatch(/apt-get install default-jre-headless/);
    await expect(
      locateZooKeeper({ env: { JAVA_HOME: '/nonexistent/jdk', PATH: process.env['PATH'] } }),
    ).rejects.toThrow(/JAVA_HOME is set to '\/nonexistent\/jdk'/);
  });
});
