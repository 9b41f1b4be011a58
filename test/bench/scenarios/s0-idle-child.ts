/**
 * One side of S0-idle, run as its own OS process by `s0-idle.ts` so that each transport's
 * memory, threads and CPU are measured from a clean process: opens one client and closes it (the
 * code and, for the native transport, the addon are then loaded), then opens `sessions` clients
 * at once, waits until all are connected, stays idle for `idleMs`, closes them and prints one
 * JSON line with the figures. Needs `--expose-gc`.
 *
 * Usage: node --expose-gc s0-idle-child.js <wire|native> <connectString> <sessions> <idleMs>
 */
import { readFileSync } from 'node:fs';
import { ZkClient } from '@zkit/core';
import { fourLetterWord, parseMntr } from '@zkit/testing';

const [transport, connectString, sessionsArg, idleArg] = process.argv.slice(2);
const sessions = Number(sessionsArg);
const idleMs = Number(idleArg);
if (
  (transport !== 'wire' && transport !== 'native') ||
  connectString === undefined ||
  !Number.isInteger(sessions) ||
  !Number.isFinite(idleMs)
) {
  process.stderr.write('usage: s0-idle-child <wire|native> <connectString> <sessions> <idleMs>\n');
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('s0-idle-child needs --expose-gc\n');
  process.exit(2);
}

const SESSION_TIMEOUT = 10_000;

function threads(): number | null {
  try {
    const m = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // not Linux
  }
}

function memory(): { rss: number; heap_used: number; external: number; threads: number | null } {
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap_used: m.heapUsed, external: m.external, threads: threads() };
}

/**
 * The host's count of connections dropped because a listening socket's accept queue was full
 * (Linux; every process counts, so it is a hint, not a figure of this child alone).
 */
function listenOverflows(): number | null {
  try {
    const [names, values] = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const at = (names ?? '').split(' ').indexOf('ListenOverflows');
    return at === -1 ? null : Number((values ?? '').split(' ')[at]);
  } catch {
    return null;
  }
}

async function packetsReceived(): Promise<number> {
  return Number(
    parseMntr(await fourLetterWord(connectString as string, 'mntr'))['zk_packets_received'],
  );
}

const open = () => new ZkClient(connectString, { sessionTimeout: SESSION_TIMEOUT, transport });

// One client first, so that what loading costs is in the baseline, not in the sessions.
const first = open();
await first.start();
await first.close();

const before = memory();
const overflows0 = listenOverflows();
const clients = Array.from({ length: sessions }, open);
const t0 = process.hrtime.bigint();
await Promise.all(clients.map((c) => c.start()));
const connectMs = Number(process.hrtime.bigint() - t0) / 1e6;
const overflows1 = listenOverflows();
const connected = memory();

const packets0 = await packetsReceived();
const cpu0 = process.cpuUsage();
const w0 = process.hrtime.bigint();
// The idle window is the measurement itself: nothing to wait for but time.
await new Promise((resolve) => setTimeout(resolve, idleMs));
const cpu = process.cpuUsage(cpu0);
const idleS = Number(process.hrtime.bigint() - w0) / 1e9;
const packets1 = await packetsReceived();
const idle = memory();

const c0 = process.hrtime.bigint();
await Promise.all(clients.map((c) => c.close()));
const closeMs = Number(process.hrtime.bigint() - c0) / 1e6;

const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(
  `${JSON.stringify({
    transport,
    sessions,
    connect_all_ms: connectMs,
    listen_overflows_while_connecting:
      overflows0 === null || overflows1 === null ? null : overflows1 - overflows0,
    close_all_ms: closeMs,
    before,
    connected,
    after_idle: idle,
    rss_per_session_bytes: (connected.rss - before.rss) / sessions,
    heap_per_session_bytes: (connected.heap_used - before.heap_used) / sessions,
    external_per_session_bytes: (connected.external - before.external) / sessions,
    idle_s: idleS,
    idle_cpu_ms: cpuMs,
    idle_cpu_ms_per_s: cpuMs / idleS,
    // Packets the server received (pings, and the two mntr probes), per session per idle second.
    idle_requests_per_session_s: (packets1 - packets0 - 1) / sessions / idleS,
  })}\n`,
);
