// A CommonJS program as a user writes it: require() every zkit package (Node.js 20.19 and later
// load their ES modules synchronously), then take and release a Mutex on the server named by
// the first argument. It prints what it saw as JSON and ends by itself once the client closes.
'use strict';

const { ZkClient } = require('@zkit/core');
const { Mutex } = require('@zkit/lock');
const { LeaderLatch } = require('@zkit/election');
const { Barrier, DoubleBarrier } = require('@zkit/barrier');
const { Queue } = require('@zkit/queue');
const { ServiceRegistry } = require('@zkit/registry');
const { ZooKeeperServer } = require('@zkit/testing');

async function main(connectString) {
  const exported = {
    ZkClient,
    Mutex,
    LeaderLatch,
    Barrier,
    DoubleBarrier,
    Queue,
    ServiceRegistry,
    ZooKeeperServer,
  };
  const client = new ZkClient(connectString, { sessionTimeout: 10_000 });
  await client.start();
  try {
    const lease = await new Mutex(client, '/consumer/lock').acquire({ timeout: 10_000 });
    const holders = await client.getChildren('/consumer/lock');
    await lease.release();
    const leaseNodeLeft = (await client.exists(lease.path)) !== null;
    return {
      exported: Object.fromEntries(
        Object.entries(exported).map(([name, value]) => [name, typeof value]),
      ),
      holders: holders.length,
      fencingToken: String(lease.fencingToken),
      leaseNodeLeft,
    };
  } finally {
    await client.close();
  }
}

main(process.argv[2]).then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  },
);
