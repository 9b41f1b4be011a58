import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Host CPU accounting for a span of wall time (SCENARIOS.md §7, `host_cpu`). */
export interface HostCpu {
  harness_cpu_s: number;
  server_cpu_s: number | null;
  other_cpu_per_wall_s: number | null;
  irq_softirq_s: number | null;
  steal_s: number | null;
}

interface Sample {
  wallNs: bigint;
  harnessUs: number;
  serverTicks: number | null;
  system: { busy: number; irq: number; steal: number } | null;
}

let ticksPerSecond: number | undefined;
/** The kernel's clock ticks per second (`getconf CLK_TCK`, 100 when unknown). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

function readSystem(): Sample['system'] {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq, irq: irq + softirq, steal };
  } catch {
    return null;
  }
}

function readProcessTicks(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return null;
  }
}

function sample(serverPid: number | null): Sample {
  const usage = process.cpuUsage();
  return {
    wallNs: process.hrtime.bigint(),
    harnessUs: usage.user + usage.system,
    serverTicks: readProcessTicks(serverPid),
    system: readSystem(),
  };
}

/** Starts measuring; the returned function ends the span and reports it. */
export function startCpuMeter(serverPid: number | null): () => HostCpu {
  const a = sample(serverPid);
  return () => {
    const b = sample(serverPid);
    const hz = clockTicks();
    const wall = Number(b.wallNs - a.wallNs) / 1e9;
    const harness = (b.harnessUs - a.harnessUs) / 1e6;
    const server =
      a.serverTicks !== null && b.serverTicks !== null
        ? (b.serverTicks - a.serverTicks) / hz
        : null;
    const sys =
      a.system && b.system
        ? {
            busy: (b.system.busy - a.system.busy) / hz,
            irq: (b.system.irq - a.system.irq) / hz,
            steal: (b.system.steal - a.system.steal) / hz,
          }
        : null;
    return {
      harness_cpu_s: harness,
      server_cpu_s: server,
      other_cpu_per_wall_s:
        sys && server !== null && wall > 0
          ? Math.max(0, sys.busy - sys.irq - harness - server) / wall
          : null,
      irq_softirq_s: sys ? sys.irq : null,
      steal_s: sys ? sys.steal : null,
    };
  };
}
