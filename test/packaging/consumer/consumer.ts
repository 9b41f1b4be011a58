// TypeScript in a CommonJS project (package.json "type": "commonjs", `module: nodenext`): these
// imports compile to require() calls, which Node.js 20.19 and later resolve to zkit's ES modules.
// Takes and releases a Mutex on the server named by the first argument and prints a JSON report.
import { ZkClient, type ZkClientOptions } from '@zkit/core';
import { Mutex, type Lease } from '@zkit/lock';
import { LeaderLatch } from '@zkit/election';
import { Barrier } from '@zkit/barrier';
import { Queue, jsonSerializer } from '@zkit/queue';
import { ServiceRegistry } from '@zkit/registry';
import { ZooKeeperServer } from '@zkit/testing';

interface Report {
  readonly exported: Record<string, string>;
  readonly holders: number;
  readonly fencingToken: string;
}

async function main(connectString: string): Promise<Report> {
  const options: ZkClientOptions = { sessionTimeout: 10_000 };
  const client = new ZkClient(connectString, options);
  await client.start();
  try {
    const lease: Lease = await new Mutex(client, '/consumer/lock').acquire({ timeout: 10_000 });
    const holders = await client.getChildren('/consumer/lock');
    await lease.release();
    const exported = {
      LeaderLatch,
      Barrier,
      Queue,
      jsonSerializer,
      ServiceRegistry,
      ZooKeeperServer,
    };
    return {
      exported: Object.fromEntries(
        Object.entries(exported).map(([name, value]) => [name, typeof value]),
      ),
      holders: holders.length,
      fencingToken: lease.fencingToken.toString(),
    };
  } finally {
    await client.close();
  }
}

const connectString = process.argv[2];
if (connectString === undefined) throw new Error('usage: node consumer.js <connect string>');
main(connectString).then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
