import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import diagnostics from 'node:diagnostics_channel';
import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { waitFor } from '@zkit/testing';
import type { OpMessage, StateMessage } from '@zkit/core';

describe('client lifecycle', () => {
  test('client - after updateServers, the next session connects through the new list', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
    const first = client.sessionId;
    // Transitions are recorded as they happen: `lost` may last only milliseconds.
    const seen: string[] = [];
    client.on('state', (now) => seen.push(now));
    const moved = client.updateServers(zk.serverConnectString);
    if (moved) {
      // The wire transport rebalances: the session's server left the list, so the session
      // moves to the new list at once and keeps its id; the old route no longer matters.
      await waitFor(() => seen.includes('reconnected'), { timeout: 20_000 });
      proxy.partition();
      expect(seen).toEqual(['suspended', 'reconnected']);
      expect(client.sessionId).toBe(first);
      expect(client.server).toBe(zk.serverConnectString);
      await expect(client.create('/moved')).resolves.toBe('/moved');
      return;
    }
    // The old route goes dark for good; the session is lost and the next one must use the new list.
    proxy.partition();
    await waitFor(() => seen.includes('lost') && client.state === 'reconnected', {
      timeout: 20_000,
    });
    expect(seen.slice(0, 3)).toEqual(['suspended', 'lost', 'reconnected']);
    expect(client.sessionId).not.toBe(first);
    await expect(client.create('/moved')).resolves.toBe('/moved');
    const observer = await zk.client();
    expect(await observer.exists('/moved')).not.toBeNull();
  });

  test('client - state changes and requests are published on diagnostics channels', async ({
    zk,
  }) => {
    const states: StateMessage[] = [];
    const ops: OpMessage[] = [];
    const onState = (m: unknown) => states.push(m as StateMessage);
    const onOp = (m: unknown) => ops.push(m as OpMessage);
    diagnostics.subscribe('zkit:client:state', onState);
    diagnostics.subscribe('zkit:op', onOp);
    try {
      const client = await zk.client();
      await client.create('/d', 'x');
      await client.get('/missing').catch(() => undefined);
      await client.close();
      const mine = states.filter((m) => m.client === client).map((m) => m.now);
      expect(mine).toEqual(['connected', 'closed']);
      const myOps = ops.filter((m) => m.client === client);
      expect(myOps.map((m) => `${m.op} ${m.path}`)).toEqual(['create /d', 'get /missing']);
      expect(myOps[0]?.durationMs).toBeGreaterThan(0);
      expect(myOps[1]?.error).toBeDefined();
    } finally {
      diagnostics.unsubscribe('zkit:client:state', onState);
      diagnostics.unsubscribe('zkit:op', onOp);
    }
  });

  test('client - a process exits on its own after close()', async ({ zk }) => {
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      const { ZkClient } = await import(${JSON.stringify(entry)});
      const c = new ZkClient(${JSON.stringify(zk.connectString)}, { sessionTimeout: 4000 });
      await c.start();
      await c.create('/exit-check', '', { mode: 'ephemeral' });
      await c.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out.trim()).toBe('closed');
    // Nothing keeps the event loop alive: the exit follows the close promptly.
    expect(Date.now() - started).toBeLessThan(15_000);
  });
  // Under the core-native project this also checks the binding's build: start() refuses one
  // whose sockets lack close-on-exec, and this one must pass that check.
  test('client - a child process spawned while the client is connected inherits none of its sockets', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/inherit-check', '', { mode: 'ephemeral' });
    // spawn() returns once the child has exec'd: what it holds open now is what it inherited.
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      const fds = readdirSync(`/proc/${child.pid}/fd`);
      const sockets = fds.filter((fd) => {
        try {
          return readlinkSync(`/proc/${child.pid}/fd/${fd}`).startsWith('socket:');
        } catch {
          return false;
        }
      });
      expect(fds.length).toBeGreaterThanOrEqual(3);
      expect(sockets).toEqual([]);
    } finally {
      child.kill();
    }
    expect(client.isConnected).toBe(true);
  });
});
