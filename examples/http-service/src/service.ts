/**
 * One instance of the `greeter` HTTP service, run as its own process:
 * `node dist/service.js <id> [--broken]` with `ZOOKEEPER_CONNECT` set. It registers itself in the
 * registry once it listens, and unregisters on SIGTERM or SIGINT. A `--broken` instance
 * answers every request with 503, to show how clients route around it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZkClient } from '@zkit/core';
import { ServiceRegistry } from '@zkit/registry';

const connectString = process.env['ZOOKEEPER_CONNECT'];
if (!connectString) throw new Error('set ZOOKEEPER_CONNECT');
const id = process.argv[2] ?? `greeter-${process.pid}`;
const broken = process.argv.includes('--broken');
const log = (line: string) => console.log(`[${id}] ${line}`);

const http = createServer((req, res) => {
  if (broken) return res.writeHead(503).end();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ greeting: `hello from ${id}`, path: req.url }));
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const { port } = http.address() as AddressInfo;

const client = new ZkClient(connectString, { sessionTimeout: 5000 });
await client.start();
const registry = new ServiceRegistry(client, { basePath: '/examples/services' });
// An ephemeral node: if this process dies, the instance disappears with its session.
await registry.register({
  name: 'greeter',
  id,
  address: '127.0.0.1',
  port,
  uriSpec: '{scheme}://{address}:{port}/hello',
});
log(`listening on port ${port}, registered as greeter/${id}${broken ? ' (broken)' : ''}`);
process.send?.('registered');

const shutdown = async () => {
  await registry.close(); // unregisters what it registered
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  await client.close();
  process.disconnect?.();
  log('unregistered and stopped');
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
