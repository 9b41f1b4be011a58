"""The zkit benchmark scenarios (test/bench/SCENARIOS.md) run with kazoo's recipes.

One Python process runs the selected scenarios in the defined order and writes one JSON file
with the same keys zkit's harness writes (figures, and the server's mntr deltas per unit of
work). Scenarios kazoo has no recipe for record {"skipped": reason}.

Usage:
    python3 kazoo_bench.py run <connectString> <scale> <scenarios,comma-separated> <out.json>
    python3 kazoo_bench.py crash-child <connectString> <electionPath>
"""

import datetime
import json
import math
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient
import kazoo.version

SESSION_TIMEOUT_S = 10.0
ELECTION_SESSION_TIMEOUT_S = 4.0
ACQUIRE_BOUND_S = 60
LEADER_BOUND_S = 10
CRASH_BOUND_S = 30
# Starting the crash child is a new interpreter plus a session: not a leader notification.
CHILD_START_BOUND_S = 120
DRAIN_BOUND_S = 300
BARRIER_ROUND_BOUND_S = 150
VISIBLE_BOUND_S = 10

COUNTER_KEYS = [
    "packets_received", "packets_sent", "bytes_received", "response_bytes", "watch_bytes",
    "writes", "reads", "fsyncs", "watch_notifications",
]

now = time.perf_counter_ns


class BenchError(Exception):
    pass


# ------------------------------------------------------------------ mntr and statistics

def four_letter(host, port, word):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(word.encode("ascii"))
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def parse_mntr(text):
    out = {}
    for line in text.splitlines():
        if "\t" not in line:
            continue
        key, value = line.split("\t", 1)
        value = value.strip()
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value
    return out


def num(m, key):
    v = m.get(key)
    if isinstance(v, float):
        return v
    raise BenchError("mntr has no numeric " + key)


def counters(m):
    return {
        "packets_received": num(m, "zk_packets_received"),
        "packets_sent": num(m, "zk_packets_sent"),
        "bytes_received": num(m, "zk_bytes_received_count"),
        "response_bytes": num(m, "zk_response_bytes"),
        "watch_bytes": num(m, "zk_watch_bytes"),
        "writes": num(m, "zk_cnt_updatelatency"),
        "reads": num(m, "zk_cnt_readlatency"),
        "fsyncs": num(m, "zk_cnt_fsynctime"),
        "watch_notifications": sum(
            num(m, "zk_sum_node_%s_watch_count" % kind)
            for kind in ("created", "deleted", "changed", "children")
        ),
    }


def diff(before, after):
    a, b = counters(after), counters(before)
    return {k: a[k] - b[k] for k in COUNTER_KEYS}


def server_avg(before, after, what):
    count = num(after, "zk_cnt_" + what) - num(before, "zk_cnt_" + what)
    if count <= 0:
        return None
    return (num(after, "zk_sum_" + what) - num(before, "zk_sum_" + what)) / count


def summarize(samples, factor=1.0):
    """n, p50, p99 (nearest rank: index ceil(p/100·n) − 1), mean, min and max."""
    s = sorted(v * factor for v in samples)
    n = len(s)
    if n == 0:
        raise BenchError("summary of an empty sample")

    def pct(p):
        return s[max(0, math.ceil(p / 100 * n) - 1)]

    return {"n": n, "p50": pct(50), "p99": pct(99), "mean": sum(s) / n, "min": s[0], "max": s[-1]}


def payload(i):
    return ("%016d" % i).encode("ascii")


# ------------------------------------------------------------------ host CPU (SCENARIOS.md §7)

SERVER_PID = int(os.environ.get("BENCH_SERVER_PID", "0") or 0)
CLK_TCK = float(os.environ.get("BENCH_CLK_TCK", "0") or os.sysconf("SC_CLK_TCK"))


def cpu_sample():
    """Wall clock, this process's CPU seconds, the server's CPU ticks, /proc/stat busy/irq/steal."""
    server = None
    if SERVER_PID > 0:
        try:
            with open("/proc/%d/stat" % SERVER_PID) as f:
                rest = f.read().rsplit(")", 1)[1].split()
            # utime and stime are fields 14 and 15; rest starts at field 3.
            server = float(rest[11]) + float(rest[12])
        except (OSError, IndexError, ValueError):
            server = None
    system = None
    try:
        with open("/proc/stat") as f:
            v = [float(x) for x in f.readline().split()[1:9]]
        v += [0.0] * (8 - len(v))
        system = (v[0] + v[1] + v[2] + v[5] + v[6], v[5] + v[6], v[7])
    except (OSError, ValueError):
        system = None
    return (now(), time.process_time(), server, system)


def host_cpu(a, b):
    """harness, server, other processes (cores), irq and steal over the span from a to b."""
    wall = (b[0] - a[0]) / 1e9
    harness = b[1] - a[1]
    server = (b[2] - a[2]) / CLK_TCK if a[2] is not None and b[2] is not None else None
    other = irq = steal = None
    if a[3] is not None and b[3] is not None:
        busy = (b[3][0] - a[3][0]) / CLK_TCK
        irq = (b[3][1] - a[3][1]) / CLK_TCK
        steal = (b[3][2] - a[3][2]) / CLK_TCK
        if server is not None and wall > 0:
            other = max(0.0, busy - irq - harness - server) / wall
    return {
        "harness_cpu_s": harness,
        "server_cpu_s": server,
        "other_cpu_per_wall_s": other,
        "irq_softirq_s": irq,
        "steal_s": steal,
    }


# ------------------------------------------------------------------ harness

class Bench:
    def __init__(self, connect, scale):
        self.connect = connect
        self.scale = scale
        host, port = connect.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.overhead = None

    def mntr(self):
        return parse_mntr(four_letter(self.host, self.port, "mntr"))

    def section_delta(self, before, after, units):
        d = diff(before, after)
        total = {k: d[k] - self.overhead[k] for k in COUNTER_KEYS}
        return {
            "units": units,
            "total": total,
            "per_unit": {k: (v / units if units > 0 else 0) for k, v in total.items()},
            "server": {
                "fsync_ms_avg": server_avg(before, after, "fsynctime"),
                "write_ms_avg": server_avg(before, after, "updatelatency"),
                "read_ms_avg": server_avg(before, after, "readlatency"),
            },
        }


class Scenario:
    """One scenario's sessions, parameters and recorded mntr sections."""

    def __init__(self, bench, params):
        self.bench = bench
        self.params = params
        self.recorded = {}
        self.cleanups = []

    def count(self, base, floor):
        return max(floor, int(math.floor(base * self.bench.scale + 0.5)))

    def param(self, key, value):
        self.params[key] = value
        return value

    def client(self, timeout=SESSION_TIMEOUT_S):
        c = KazooClient(hosts=self.bench.connect, timeout=timeout)

        def close():
            c.stop()
            c.close()

        self.defer(close)
        c.start(timeout=30)
        return c

    def defer(self, fn):
        self.cleanups.append(fn)

    def section(self, name, units, body):
        """Runs body between two mntr probes, records mntr_<name>; returns (value, wall seconds)."""
        before = self.bench.mntr()
        t0 = now()
        value = body()
        wall = (now() - t0) / 1e9
        after = self.bench.mntr()
        self.recorded["mntr_" + name] = self.bench.section_delta(before, after, units)
        return value, wall

    def close(self):
        errors = []
        while self.cleanups:
            fn = self.cleanups.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - every cleanup runs
                errors.append(repr(e))
        return errors


def start_threads(targets):
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    return threads


# ------------------------------------------------------------------ S0

def s0(ctx):
    warmup = ctx.param("warmup", ctx.count(100, 10))
    ops = ctx.param("ops", ctx.count(1000, 20))
    zk = ctx.client()
    base, node = "/bench/s0", "/bench/s0/n"
    zk.ensure_path(base)
    for _ in range(warmup):
        zk.exists(base)
    for _ in range(warmup):
        zk.create(node, b"", ephemeral=True)
        zk.delete(node)

    exists = []

    def phase_a():
        for _ in range(ops):
            t = now()
            zk.exists(base)
            exists.append(now() - t)

    _, a = ctx.section("exists", ops, phase_a)
    pairs = []

    def phase_b():
        for _ in range(ops):
            t = now()
            zk.create(node, b"", ephemeral=True)
            zk.delete(node)
            pairs.append(now() - t)

    _, b = ctx.section("create_delete", ops, phase_b)
    return {
        "exists_us": summarize(exists, 1e-3),
        "create_delete_us": summarize(pairs, 1e-3),
        "exists_ops_s": ops / a,
        "create_delete_pairs_s": ops / b,
    }


# ------------------------------------------------------------------ S1, S2

def acquire(lock):
    if not lock.acquire(timeout=ACQUIRE_BOUND_S):
        raise BenchError("lock acquire did not finish within 60 s")


def s1(ctx):
    warmup = ctx.param("warmup", ctx.count(200, 10))
    cycles = ctx.param("cycles", ctx.count(2000, 50))
    zk = ctx.client()
    lock = zk.Lock("/bench/s1/lock")
    for _ in range(warmup):
        acquire(lock)
        lock.release()
    samples = []

    def timed():
        for _ in range(cycles):
            t = now()
            acquire(lock)
            lock.release()
            samples.append(now() - t)

    _, wall = ctx.section("cycle", cycles, timed)
    return {"cycle_us": summarize(samples, 1e-3), "cycles_per_s": cycles / wall, "wall_s": wall}


def s2(sessions):
    def run(ctx):
        total = ctx.param("acquisitions", ctx.count(2000, 2 * sessions))
        ctx.param("sessions", sessions)
        path = "/bench/s2-c%d/lock" % sessions
        locks = [ctx.client().Lock(path) for _ in range(sessions)]
        for lock in locks:
            acquire(lock)
            lock.release()
        flag = threading.Lock()
        state = {"holder": None, "violations": 0, "counter": 0}
        failures = []
        gate = threading.Event()

        def worker(me):
            quota = total // sessions + (1 if me < total % sessions else 0)
            lock = locks[me]

            def body():
                try:
                    gate.wait()
                    for _ in range(quota):
                        acquire(lock)
                        with flag:
                            if state["holder"] is not None:
                                state["violations"] += 1
                            state["holder"] = me
                        v = state["counter"]
                        time.sleep(0)
                        state["counter"] = v + 1
                        with flag:
                            if state["holder"] != me:
                                state["violations"] += 1
                            state["holder"] = None
                        lock.release()
                except Exception as e:  # noqa: BLE001 - reported below
                    failures.append(e)

            return body

        threads = start_threads([worker(i) for i in range(sessions)])

        def timed():
            gate.set()
            for t in threads:
                t.join()

        _, wall = ctx.section("acquisition", total, timed)
        if failures:
            raise failures[0]
        return {
            "wall_s": wall,
            "acquisitions_per_s": total / wall,
            "violations": state["violations"],
            "counter": state["counter"],
            "counter_ok": state["counter"] == total,
        }

    return run


# ------------------------------------------------------------------ S3, S3-crash

class Candidate:
    """One Election participant looping Election(...).run(leader_fn) on its own thread."""

    def __init__(self, zk, path, name, events, stop):
        self.zk, self.path, self.name = zk, path, name
        self.events, self.stop = events, stop
        self.election = None
        self.generation = 0
        self.relinquish = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self.thread.start()

    def _leader(self):
        self.events.put((self.name, now()))
        self.relinquish.wait(DRAIN_BOUND_S)
        self.relinquish.clear()

    def _loop(self):
        while not self.stop.is_set():
            election = self.zk.Election(self.path, self.name)
            self.election = election
            self.generation += 1
            try:
                election.run(self._leader)
            except Exception:  # noqa: BLE001 - the session is closing
                return

    def joined(self, generation, bound_s):
        deadline = time.monotonic() + bound_s
        while True:
            e = self.election
            if self.generation >= generation and e is not None and e.lock.node is not None:
                return
            if time.monotonic() > deadline:
                raise BenchError("%s did not join within %s s" % (self.name, bound_s))
            time.sleep(0)

    def close(self):
        self.stop.set()
        e = self.election
        if e is not None:
            e.cancel()
        self.relinquish.set()


def next_event(events, bound_s, what):
    try:
        return events.get(timeout=bound_s)
    except queue.Empty:
        raise BenchError("%s did not happen within %s s" % (what, bound_s))


def s3(ctx):
    k = ctx.param("candidates", 5)
    rounds = ctx.param("rounds", ctx.count(30, 5))
    ctx.param("session_timeout_ms", int(ELECTION_SESSION_TIMEOUT_S * 1000))
    path = "/bench/s3/election"
    events = queue.Queue()
    stop = threading.Event()
    candidates = {}
    for i in range(k):
        zk = ctx.client(ELECTION_SESSION_TIMEOUT_S)
        c = Candidate(zk, path, "c%d" % i, events, stop)
        ctx.defer(c.close)
        candidates[c.name] = c
        c.start()
        c.joined(1, LEADER_BOUND_S)
    leader = next_event(events, LEADER_BOUND_S, "the first leader notification")[0]
    time.sleep(0.1)
    samples = []

    def timed():
        nonlocal leader
        for _ in range(rounds):
            current = candidates[leader]
            generation = current.generation + 1
            t0 = now()
            current.relinquish.set()
            who, at = next_event(events, LEADER_BOUND_S, "a new leader notification")
            if who == current.name:
                raise BenchError("%s was notified again right after leaving" % who)
            samples.append(at - t0)
            leader = who
            current.joined(generation, LEADER_BOUND_S)
            time.sleep(0.02)

    ctx.section("handoff", rounds, timed)
    return {"handoff_ms": summarize(samples, 1e-6), "samples_ms": [s / 1e6 for s in samples]}


def crash_child(connect, path):
    threading.Timer(120, lambda: os._exit(0)).start()
    zk = KazooClient(hosts=connect, timeout=ELECTION_SESSION_TIMEOUT_S)
    zk.start(timeout=30)

    def lead():
        print("LEADER 0x%x" % zk.client_id[0], flush=True)
        time.sleep(120)

    zk.Election(path, "crash-child").run(lead)


def negotiated_timeout(bench, session):
    """The session's timeout as the server's `cons` reports it (to=…)."""
    for line in four_letter(bench.host, bench.port, "cons").splitlines():
        m = re.search(r"sid=(0x[0-9a-f]+)", line)
        if m and int(m.group(1), 16) == int(session, 16):
            to = re.search(r"\bto=(\d+)", line)
            if to:
                return int(to.group(1))
    raise BenchError("cons does not list session %s" % session)


def crash_once(ctx, rep, k):
    path = "/bench/s3crash-%d/election" % rep
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "crash-child", ctx.bench.connect, path],
        stdout=subprocess.PIPE, text=True,
    )

    def reap():
        if child.poll() is None:
            child.kill()
        child.wait()

    ctx.defer(reap)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in child.stdout] + [lines.put("EOF")],
                     daemon=True).start()
    try:
        line = lines.get(timeout=CHILD_START_BOUND_S)
    except queue.Empty:
        line = None
    if line is None or not line.startswith("LEADER "):
        raise BenchError("the crash child was not elected: %r" % line)
    timeout = negotiated_timeout(ctx.bench, line.split()[1])
    events = queue.Queue()
    stop = threading.Event()
    candidates = []
    for i in range(k - 1):
        c = Candidate(ctx.client(ELECTION_SESSION_TIMEOUT_S), path, "c%d" % i, events, stop)
        ctx.defer(c.close)
        c.start()
        c.joined(1, CRASH_BOUND_S)
        candidates.append(c)
    if not events.empty():
        raise BenchError("a candidate leads while the crash child is alive")
    time.sleep(0.2)
    t0 = now()
    child.send_signal(signal.SIGKILL)
    _, t1 = next_event(events, CRASH_BOUND_S, "failover")
    child.wait()
    for c in candidates:
        c.close()
    return {"failover_ms": (t1 - t0) / 1e6, "negotiated_timeout_ms": timeout}


def s3_crash(ctx):
    reps = ctx.param("reps", 3)
    k = ctx.param("candidates", 5)
    ctx.param("session_timeout_ms", int(ELECTION_SESSION_TIMEOUT_S * 1000))
    runs = [crash_once(ctx, rep, k) for rep in range(reps)]
    samples = [r["failover_ms"] for r in runs]
    timeout = runs[0]["negotiated_timeout_ms"]
    return {
        "failover_ms": samples,
        "failover": summarize(samples),
        "negotiated_timeout_ms": timeout,
        "within_timeout_plus_1s": all(s <= timeout + 1000 for s in samples),
    }


# ------------------------------------------------------------------ S4

class Receipts:
    """Receive counts per item index (S4's exactly-once check)."""

    def __init__(self, n):
        self.counts = [0] * n
        self.distinct = 0
        self.malformed = 0
        self.t1 = None
        self.lock = threading.Lock()
        self.all = threading.Event()

    def receive(self, value):
        at = now()
        s = value.decode("ascii", "replace") if isinstance(value, bytes) else ""
        i = int(s) if re.fullmatch(r"\d{16}", s) else -1
        with self.lock:
            if i < 0 or i >= len(self.counts):
                self.malformed += 1
                return
            self.counts[i] += 1
            if self.counts[i] == 1:
                self.distinct += 1
                if self.distinct == len(self.counts):
                    self.t1 = at
                    self.all.set()

    def report(self, r):
        with self.lock:
            missing = sum(1 for c in self.counts if c == 0)
            duplicates = sum(c - 1 for c in self.counts if c > 1)
            r.update(
                missing=missing,
                duplicates=duplicates,
                malformed=self.malformed,
                exactly_once=missing == 0 and duplicates == 0 and self.malformed == 0,
            )


def s4(base, n, locking):
    def run(ctx):
        items = ctx.param("items", ctx.count(n, 50))
        path = base + "/queue"
        pz = ctx.client()
        producer = pz.LockingQueue(path) if locking else pz.Queue(path)
        producer.put(payload(0))

        def produce():
            for i in range(1, items):
                producer.put(payload(i))

        _, produce_s = ctx.section("produce", items - 1, produce)
        receipts = Receipts(items)
        queues = [(ctx.client().LockingQueue(path) if locking else ctx.client().Queue(path))
                  for _ in range(4)]
        gate = threading.Event()
        failures = []

        def consumer(q):
            def body():
                try:
                    gate.wait()
                    if locking:
                        while not receipts.all.is_set():
                            item = q.get(timeout=0.5)
                            if item is None:
                                continue
                            receipts.receive(item)
                            q.consume()
                    else:
                        while True:
                            item = q.get()
                            if item is None:
                                return
                            receipts.receive(item)
                except Exception as e:  # noqa: BLE001 - reported below
                    failures.append(e)

            return body

        threads = start_threads([consumer(q) for q in queues])
        t0 = [0]

        def consume():
            t0[0] = now()
            gate.set()
            deadline = time.monotonic() + DRAIN_BOUND_S
            while not receipts.all.wait(0.1):
                if failures:
                    raise failures[0]
                if not any(t.is_alive() for t in threads):
                    raise BenchError("the consumers found the queue empty early")
                if time.monotonic() > deadline:
                    raise BenchError("queue drain did not finish within 300 s")

        ctx.section("consume", items, consume)
        consume_s = (receipts.t1 - t0[0]) / 1e9
        time.sleep(0.5)
        for t in threads:
            t.join(DRAIN_BOUND_S)
        if failures:
            raise failures[0]
        r = {"produce_items_per_s": (items - 1) / produce_s, "consume_items_per_s": items / consume_s}
        receipts.report(r)
        r["left_in_queue"] = len(producer)
        return r

    return run


def s4b(ctx):
    return {"skipped": "kazoo's Queue is already the get-then-delete queue (S4a)"}


# ------------------------------------------------------------------ S5

def s5(ctx):
    members = ctx.param("members", 16)
    rounds = ctx.param("rounds", ctx.count(20, 3))
    clients = [ctx.client() for _ in range(members)]
    barriers = [
        [zk.DoubleBarrier("/bench/s5/round-%d" % r, members, identifier="p%d" % i)
         for i, zk in enumerate(clients)]
        for r in range(rounds)
    ]
    samples = []

    def timed():
        for round_barriers in barriers:
            gate = threading.Event()
            failures = []

            def member(b):
                def body():
                    try:
                        gate.wait()
                        b.enter()
                        if not b.participating:
                            raise BenchError("enter() failed (participating is False)")
                        b.leave()
                    except Exception as e:  # noqa: BLE001 - reported below
                        failures.append(e)

                return body

            threads = start_threads([member(b) for b in round_barriers])
            t0 = now()
            gate.set()
            deadline = time.monotonic() + BARRIER_ROUND_BOUND_S
            for t in threads:
                t.join(max(0, deadline - time.monotonic()))
            if any(t.is_alive() for t in threads):
                raise BenchError("a barrier round did not finish within 150 s")
            samples.append(now() - t0)
            if failures:
                raise failures[0]

    ctx.section("member_round", members * rounds, timed)
    return {"round_ms": summarize(samples, 1e-6), "member_rounds": members * rounds}


# ------------------------------------------------------------------ S6

def instance_json(i, ident):
    return json.dumps({
        "name": "api",
        "id": ident,
        "address": "127.0.0.1",
        "port": 20000 + i,
        "sslPort": None,
        "payload": None,
        "registrationTimeUTC": int(time.time() * 1000),
        "serviceType": "DYNAMIC",
        "uriSpec": None,
        "enabled": True,
    }).encode("utf-8")


def s6(ctx):
    n = ctx.param("instances", ctx.count(200, 20))
    base = "/bench/s6/api"
    r = ctx.client()
    w = ctx.client()
    r.ensure_path(base)
    cache = {}
    seen = {}
    changed = threading.Condition()

    def on_children(children):
        for child in children:
            if child in cache:
                continue
            data, _ = w.get(base + "/" + child)
            cache[child] = json.loads(data.decode("utf-8"))
            at = now()
            with changed:
                seen.setdefault(child, at)
                changed.notify_all()

    w.ChildrenWatch(base, on_children)
    after_return, after_start, call = [], [], []
    negative = 0

    def timed():
        nonlocal negative
        for i in range(n):
            ident = "inst-%03d" % i
            data = instance_json(i, ident)
            a = now()
            r.create(base + "/" + ident, data, ephemeral=True)
            b = now()
            with changed:
                if not changed.wait_for(lambda: ident in seen, VISIBLE_BOUND_S):
                    raise BenchError("%s was not visible within 10 s" % ident)
                s = seen[ident]
            if s < b:
                negative += 1
            after_return.append(s - b)
            after_start.append(s - a)
            call.append(b - a)

    ctx.section("register", n, timed)
    if len(cache) != n:
        raise BenchError("the cache holds %d instances, not %d" % (len(cache), n))
    q = ctx.client()
    cold = [0.0]

    def query():
        t = now()
        found = []
        for child in q.get_children(base):
            data, _ = q.get(base + "/" + child)
            found.append(json.loads(data.decode("utf-8")))
        cold[0] = (now() - t) / 1e6
        if len(found) != n:
            raise BenchError("the cold query found %d, not %d" % (len(found), n))

    ctx.section("cold_query", 1, query)
    return {
        "visible_after_return_ms": summarize(after_return, 1e-6),
        "visible_after_call_start_ms": summarize(after_start, 1e-6),
        "register_call_ms": summarize(call, 1e-6),
        "negative_samples": negative,
        "cold_query_ms": cold[0],
    }


def s7(sessions):
    """S7: kazoo's Counter (its own layout: the value as text), each increment retried by
    kazoo until it succeeds."""

    def run(ctx):
        total = ctx.param("increments", ctx.count(2000, 2 * sessions))
        ctx.param("sessions", sessions)
        path = "/bench/s7-c%d/counter" % sessions
        counters = [ctx.client().Counter(path) for _ in range(sessions)]
        for counter in counters:
            counter.value  # untimed: creates the node, warms the session up
        failures = []
        gate = threading.Event()

        def worker(me):
            quota = total // sessions + (1 if me < total % sessions else 0)
            counter = counters[me]

            def body():
                try:
                    gate.wait()
                    c = counter
                    for _ in range(quota):
                        c += 1
                except Exception as e:  # noqa: BLE001 - reported below
                    failures.append(e)

            return body

        threads = start_threads([worker(i) for i in range(sessions)])

        def timed():
            gate.set()
            for t in threads:
                t.join()

        _, wall = ctx.section("increment", total, timed)
        if failures:
            raise failures[0]
        final = counters[0].value
        return {
            "wall_s": wall,
            "increments_per_s": total / wall,
            "failed": 0,
            "counter_ok": final == total,
        }

    return run


# ------------------------------------------------------------------ S8

def s8(ctx):
    return {"skipped": "kazoo's TreeCache is not part of this comparison"}


# ------------------------------------------------------------------ main

SCENARIOS = {
    "S0": s0,
    "S1": s1,
    "S2-c8": s2(8),
    "S2-c32": s2(32),
    "S3": s3,
    "S3-crash": s3_crash,
    "S4a": s4("/bench/s4a", 5000, False),
    "S4b": s4b,
    "S4c": s4("/bench/s4c", 2000, True),
    "S5": s5,
    "S6": s6,
    "S7-c1": s7(1),
    "S7-c8": s7(8),
    "S7-c32": s7(32),
    "S8": s8,
}


def run_all(connect, scale, names):
    t0 = now()
    run0 = cpu_sample()
    bench = Bench(connect, scale)
    first = bench.mntr()
    second = bench.mntr()
    bench.overhead = diff(first, second)
    params = {}
    scenarios = {}
    out = {
        "lib": "kazoo",
        "lib_version": kazoo.version.__version__,
        "runtime": "python %s" % sys.version.split()[0],
        "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "connect": connect,
        "scale": scale,
        "server_version": first.get("zk_version"),
        "params": params,
        "mntr_overhead_per_call": bench.overhead,
        "scenarios": scenarios,
    }
    for name in names:
        if name not in SCENARIOS:
            raise BenchError("no scenario named " + name)
        print("kazoo " + name, file=sys.stderr, flush=True)
        params[name] = {}
        ctx = Scenario(bench, params[name])
        s0_ = now()
        cpu0 = cpu_sample()
        try:
            result = SCENARIOS[name](ctx)
        except Exception as e:  # noqa: BLE001 - the other scenarios still run
            result = {"error": "%s: %s" % (type(e).__name__, e)}
            traceback.print_exc()
        cleanup = ctx.close()
        merged = dict(ctx.recorded)
        merged.update(result)
        if cleanup:
            merged["cleanup_errors"] = cleanup
        merged["scenario_wall_s"] = (now() - s0_) / 1e9
        merged["host_cpu"] = host_cpu(cpu0, cpu_sample())
        scenarios[name] = merged
    out["total_wall_s"] = (now() - t0) / 1e9
    out["host_cpu"] = host_cpu(run0, cpu_sample())
    return out


def main(argv):
    if len(argv) == 3 and argv[0] == "crash-child":
        crash_child(argv[1], argv[2])
        return 0
    if len(argv) != 5 or argv[0] != "run":
        print(__doc__, file=sys.stderr)
        return 2
    results = run_all(argv[1], float(argv[2]), [n for n in argv[3].split(",") if n])
    with open(argv[4], "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Daemon threads of scenarios that failed may still hold sessions: leave at once.
    os._exit(code)
