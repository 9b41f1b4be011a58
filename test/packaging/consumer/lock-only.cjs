// A CommonJS program that installed only @zkit/core and @zkit/lock. It takes and releases a
// Mutex on the server named by the first argument over the transport named by the second
// ('wire' or 'native'), and while it holds the lock it spawns a child process and looks at the
// child's open descriptors. It prints what it saw as JSON and ends by itself.
'use strict';

const { spawn } = require('node:child_process');
const { readdirSync, readlinkSync } = require('node:fs');
const { ZkClient } = require('@zkit/core');
const { Mutex } = require('@zkit/lock');

/** How many sockets a child spawned now holds open (it should hold none of ours). */
function socketsOfAChild() {
  const child = spawn('sleep', ['5'], { stdio: 'ignore' });
  try {
    return readdirSync(`/proc/${child.pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${child.pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } finally {
    child.kill();
  }
}

async function main(connectString, transport) {
  let client;
  try {
    client = new ZkClient(connectString, { sessionTimeout: 10_000, transport });
    await client.start();
  } catch (error) {
    return {
      error: {
        name: error.name,
        code: error.code,
        message: error.message,
        installCommand: error.installCommand,
        rebuildCommand: error.rebuildCommand,
      },
    };
  }
  try {
    const lease = await new Mutex(client, '/lock-only/lock').acquire({ timeout: 10_000 });
    const holders = (await client.getChildren('/lock-only/lock')).length;
    const childSockets = socketsOfAChild();
    await lease.release();
    const leaseNodeLeft = (await client.exists(lease.path)) !== null;
    return { holders, childSockets, leaseNodeLeft };
  } finally {
    await client.close();
  }
}

main(process.argv[2], process.argv[3]).then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  },
);
