/**
 * `npm start -w @zkit/example-http-service`: starts two `greeter` instances (one of them broken)
 * and a client, each in its own process. Uses the ZooKeeper at `ZOOKEEPER_CONNECT`, or starts a
 * throwaway local server when it is unset.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer, externalConnectString } from '@zkit/testing';

function start(script: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
}

async function exitCode(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? 1;
}

// Refuses a connect string under another name (ZK_CONNECT, ZOOKEEPER) rather than ignore it.
const external = externalConnectString();
const server = external ? undefined : await ZooKeeperServer.start();
const env = { ZOOKEEPER_CONNECT: external ?? server?.connectString ?? '' };
const services = [
  start('service.js', ['greeter-1'], env),
  start('service.js', ['greeter-2', '--broken'], env),
];
try {
  // Each instance sends a message once it is registered.
  await Promise.all(
    services.map(
      (s) =>
        new Promise((resolve, reject) => {
          s.once('message', resolve);
          s.once('exit', (code) => reject(new Error(`a service exited with ${code} early`)));
        }),
    ),
  );
  const code = await exitCode(start('client.js', [], env));
  if (code !== 0) process.exitCode = code;
} finally {
  for (const s of services) s.kill('SIGTERM');
  const codes = await Promise.all(services.map(exitCode));
  if (codes.some((c) => c !== 0)) process.exitCode = 1;
  await server?.stop();
}
