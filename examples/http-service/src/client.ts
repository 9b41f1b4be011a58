/**
 * A client of the `greeter` service, run as its own process: `node dist/client.js` with
 * `ZOOKEEPER_CONNECT` set. It finds instances through the registry, picks one per call in round-robin
 * order, and reports failed calls so that an instance failing twice is skipped for 30 s.
 */
import { ZkClient } from '@zkit/core';
import { ServiceRegistry, buildUri } from '@zkit/registry';

const connectString = process.env['ZOOKEEPER_CONNECT'];
if (!connectString) throw new Error('set ZOOKEEPER_CONNECT');
const calls = Number(process.env['CALLS'] ?? 8);

const client = new ZkClient(connectString, { sessionTimeout: 5000 });
await client.start();
const registry = new ServiceRegistry(client, { basePath: '/examples/services' });
const greeter = registry.provider('greeter', {
  strategy: 'roundRobin',
  downInstancePolicy: { errorThreshold: 2, timeout: 30_000 },
});
let lastFailed = 0;
try {
  for (let call = 1; call <= calls; call++) {
    const instance = await greeter.getInstance({ timeout: 10_000 });
    if (!instance) throw new Error('no greeter instance is up');
    const url = buildUri(instance); // from the instance's uriSpec
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const { greeting } = (await answer.json()) as { greeting: string };
      console.log(`[client] call ${call}: ${url} → "${greeting}"`);
    } catch (error) {
      greeter.noteError(instance);
      lastFailed = call;
      console.log(
        `[client] call ${call}: ${url} failed (${String(error)}), noted against ${instance.id}`,
      );
    }
  }
} finally {
  await registry.close();
  await client.close();
}
// Two noted errors take an instance out, so the last calls must all have succeeded.
if (lastFailed > calls / 2) process.exitCode = 1;
