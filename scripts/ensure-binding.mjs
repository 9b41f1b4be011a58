// Makes sure the native `zookeeper` binding is built with close-on-exec sockets.
//
// The bundled C client creates its sockets without SOCK_CLOEXEC unless it is compiled with
// SOCK_CLOEXEC_ENABLED. Without it, every child process spawned while a client is connected
// inherits the client's socket: the connection then outlives its close, and the native
// client spins after a reconnect. This checks a live handle and rebuilds the binding once
// with the flag when the check fails. Run as the root package's postinstall, for this
// repository's own copy (a devDependency: the core-native tests and the benchmarks use it).
// Users install the binding themselves; `ZkClient.start()` with the native transport runs the
// same check at run time and refuses a binding that fails it (NativeBindingUnsafeError).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const FLAG = '-DSOCK_CLOEXEC_ENABLED';

/** Spawns a checker process: exit 0 when a child inherits no socket of a connecting handle. */
function socketsStayPrivate() {
  const probe = `
    const { spawn } = require('node:child_process');
    const fs = require('node:fs');
    const ZooKeeper = require('zookeeper');
    // Port 1 refuses at once; the handle still opens a socket while it tries.
    const zk = new ZooKeeper({ connect: '127.0.0.1:1', timeout: 4000, response_counter_limit: 100000 });
    zk.init({});
    const deadline = Date.now() + 2000;
    const hasSocket = (pid) => fs.readdirSync('/proc/' + pid + '/fd').some((f) => {
      try { return fs.readlinkSync('/proc/' + pid + '/fd/' + f).startsWith('socket:'); } catch { return false; }
    });
    const tick = () => {
      const child = spawn('sleep', ['2'], { stdio: 'ignore' });
      setTimeout(() => {
        const leaked = hasSocket(child.pid);
        child.kill();
        if (leaked) { zk.close(); process.exit(1); }
        if (Date.now() > deadline) { zk.close(); process.exit(0); }
        tick();
      }, 20);
    };
    tick();
  `;
  const result = spawnSync(process.execPath, ['-e', probe], { stdio: 'inherit', timeout: 15_000 });
  return result.status === 0;
}

if (process.platform !== 'linux') process.exit(0);
let bindingDir;
try {
  bindingDir = dirname(require.resolve('zookeeper/package.json'));
} catch {
  process.exit(0); // not installed (yet): nothing to check
}
if (socketsStayPrivate()) process.exit(0);

process.stdout.write('[zkit] rebuilding the zookeeper binding with close-on-exec sockets…\n');
rmSync(join(bindingDir, 'build'), { recursive: true, force: true });
const env = { ...process.env, CPPFLAGS: `${process.env.CPPFLAGS ?? ''} ${FLAG}`.trim() };
const rebuild = spawnSync('npm', ['rebuild', 'zookeeper', '--foreground-scripts'], {
  stdio: 'inherit',
  env,
});
if (rebuild.status !== 0 || !socketsStayPrivate()) {
  process.stderr.write(
    '[zkit] the zookeeper binding still leaks its sockets into child processes; rebuild it with\n' +
      `  rm -rf ${join(bindingDir, 'build')} && CPPFLAGS=${FLAG} npm rebuild zookeeper\n`,
  );
  process.exit(1);
}
