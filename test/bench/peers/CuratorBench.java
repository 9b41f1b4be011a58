import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.apache.zookeeper.CreateMode;

/**
 * The zkit benchmark scenarios (test/bench/SCENARIOS.md) run with Apache Curator's recipes, so
 * that Curator's figures come from the same machine, server configuration and rules as zkit's.
 * One JVM runs the selected scenarios in the defined order and writes one JSON file with the same
 * keys zkit's harness writes (figures, and the server's mntr deltas per unit of work).
 *
 * <p>Usage: {@code java CuratorBench run <connectString> <scale> <scenarios,comma-separated>
 * <out.json>}, or {@code java CuratorBench crash-child <connectString> <electionPath>} for the
 * crashing leader of S3-crash.
 */
public final class CuratorBench {
  static final int SESSION_TIMEOUT = 10_000;
  static final int ELECTION_SESSION_TIMEOUT = 4_000;
  static final long ACQUIRE_BOUND_S = 60;
  static final long LEADER_BOUND_MS = 10_000;
  static final long CRASH_BOUND_MS = 30_000;
  /** The crash child is a whole new JVM: starting it is not a leader notification. */
  static final long CHILD_START_BOUND_MS = 120_000;
  static final long DRAIN_BOUND_MS = 300_000;
  static final long BARRIER_BOUND_S = 60;
  /**
   * A whole barrier round, as kazoo's: enter and leave each have their own bound, but a member
   * thread that outlives both (Curator's wait loop not returning) must fail the round too.
   */
  static final long BARRIER_ROUND_BOUND_MS = 150_000;
  static final long VISIBLE_BOUND_MS = 10_000;
  static final String[] COUNTER_KEYS = {
    "packets_received", "packets_sent", "bytes_received", "response_bytes", "watch_bytes",
    "writes", "reads", "fsyncs", "watch_notifications"
  };

  final String connect;
  final double scale;
  final String host;
  final int port;
  Map<String, Double> overhead;
  final Map<String, Object> params = new LinkedHashMap<>();

  CuratorBench(String connect, double scale) {
    this.connect = connect;
    this.scale = scale;
    int colon = connect.lastIndexOf(':');
    this.host = connect.substring(0, colon);
    this.port = Integer.parseInt(connect.substring(colon + 1));
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 3 && args[0].equals("crash-child")) {
      crashChild(args[1], args[2]);
      return;
    }
    if (args.length != 5 || !args[0].equals("run")) {
      System.err.println(
          "usage: CuratorBench run <connect> <scale> <scenarios> <out.json>"
              + " | crash-child <connect> <path>");
      System.exit(2);
    }
    CuratorBench bench = new CuratorBench(args[1], Double.parseDouble(args[2]));
    Map<String, Object> results = bench.runAll(Arrays.asList(args[3].split(",")));
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    json.writeValue(new File(args[4]), results);
    System.exit(0);
  }

  // ---------------------------------------------------------------- harness

  Map<String, Object> runAll(List<String> names) throws Exception {
    long t0 = System.nanoTime();
    CpuSample run0 = cpuSample();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("lib", "curator");
    out.put("lib_version", curatorVersion());
    out.put("runtime", "java " + System.getProperty("java.version"));
    out.put("started_utc", Instant.now().toString());
    out.put("connect", connect);
    out.put("scale", scale);
    Map<String, Object> first = mntr();
    Map<String, Object> second = mntr();
    overhead = diff(first, second);
    out.put("server_version", first.get("zk_version"));
    out.put("params", params);
    out.put("mntr_overhead_per_call", overhead);
    Map<String, Object> scenarios = new LinkedHashMap<>();
    out.put("scenarios", scenarios);
    for (String name : names) {
      System.err.println("curator " + name);
      Map<String, Object> scenarioParams = new LinkedHashMap<>();
      params.put(name, scenarioParams);
      Scenario ctx = new Scenario(this, scenarioParams);
      long s0 = System.nanoTime();
      CpuSample cpu0 = cpuSample();
      Map<String, Object> result;
      try {
        result = run(name, ctx);
      } catch (Throwable e) {
        result = new LinkedHashMap<>();
        result.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
        System.err.println("curator " + name + ": " + e);
      }
      List<String> cleanup = ctx.close();
      Map<String, Object> merged = new LinkedHashMap<>(ctx.recorded);
      merged.putAll(result);
      if (!cleanup.isEmpty()) merged.put("cleanup_errors", cleanup);
      merged.put("scenario_wall_s", (System.nanoTime() - s0) / 1e9);
      merged.put("host_cpu", hostCpu(cpu0, cpuSample()));
      scenarios.put(name, merged);
    }
    out.put("total_wall_s", (System.nanoTime() - t0) / 1e9);
    out.put("host_cpu", hostCpu(run0, cpuSample()));
    return out;
  }

  /** Curator's version, from the Maven properties packed in its framework jar. */
  static String curatorVersion() {
    try (InputStream in =
        CuratorFramework.class.getResourceAsStream(
            "/META-INF/maven/org.apache.curator/curator-framework/pom.properties")) {
      java.util.Properties p = new java.util.Properties();
      if (in != null) p.load(in);
      return p.getProperty("version", "unknown");
    } catch (Exception e) {
      return "unknown";
    }
  }

  Map<String, Object> run(String name, Scenario ctx) throws Exception {
    switch (name) {
      case "S0":
        return s0(ctx);
      case "S1":
        return s1(ctx);
      case "S2-c8":
        return s2(ctx, 8);
      case "S2-c32":
        return s2(ctx, 32);
      case "S3":
        return s3(ctx);
      case "S3-crash":
        return s3Crash(ctx);
      case "S4a":
        return s4Distributed(ctx, "/bench/s4a", 5000, false);
      case "S4b":
        return s4Simple(ctx);
      case "S4c":
        return s4Distributed(ctx, "/bench/s4c", 2000, true);
      case "S5":
        return s5(ctx);
      case "S6":
        return s6(ctx);
      case "S7-c1":
        return s7(ctx, 1);
      case "S7-c8":
        return s7(ctx, 8);
      case "S7-c32":
        return s7(ctx, 32);
      case "S8":
        return s8(ctx);
      default:
        throw new IllegalArgumentException("no scenario named " + name);
    }
  }

  /** One scenario's sessions, parameters and recorded mntr sections. */
  static final class Scenario {
    final CuratorBench bench;
    final Map<String, Object> params;
    final Map<String, Object> recorded = new LinkedHashMap<>();
    final List<AutoCloseable> cleanups = new ArrayList<>();

    Scenario(CuratorBench bench, Map<String, Object> params) {
      this.bench = bench;
      this.params = params;
    }

    int count(int base, int floor) {
      int n = (int) Math.max(floor, Math.floor(base * bench.scale + 0.5));
      return n;
    }

    <T> T param(String key, T value) {
      params.put(key, value);
      return value;
    }

    CuratorFramework client(int sessionTimeout) throws Exception {
      CuratorFramework c =
          CuratorFrameworkFactory.builder()
              .connectString(bench.connect)
              .sessionTimeoutMs(sessionTimeout)
              .retryPolicy(new ExponentialBackoffRetry(1000, 3))
              .build();
      cleanups.add(c);
      c.start();
      if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("no connection within 30 s");
      }
      return c;
    }

    CuratorFramework client() throws Exception {
      return client(SESSION_TIMEOUT);
    }

    void defer(AutoCloseable c) {
      cleanups.add(c);
    }

    /** Runs {@code body} between two mntr probes; records {@code mntr_<name>}; returns seconds. */
    double section(String name, int units, Body body) throws Exception {
      Map<String, Object> before = bench.mntr();
      long t0 = System.nanoTime();
      body.run();
      long wall = System.nanoTime() - t0;
      Map<String, Object> after = bench.mntr();
      recorded.put("mntr_" + name, bench.sectionDelta(before, after, units));
      return wall / 1e9;
    }

    List<String> close() {
      List<String> errors = new ArrayList<>();
      for (int i = cleanups.size() - 1; i >= 0; i--) {
        try {
          cleanups.get(i).close();
        } catch (Throwable e) {
          errors.add(e.toString());
        }
      }
      cleanups.clear();
      return errors;
    }
  }

  interface Body {
    void run() throws Exception;
  }

  // ---------------------------------------------------------------- host CPU (SCENARIOS.md §7)

  /** The server's pid and the kernel's clock ticks per second, from the harness (0: unknown). */
  static final long SERVER_PID =
      Long.parseLong(System.getenv().getOrDefault("BENCH_SERVER_PID", "0"));
  static final double CLK_TCK =
      Double.parseDouble(System.getenv().getOrDefault("BENCH_CLK_TCK", "100"));

  /** Wall clock, own CPU seconds, the server's CPU ticks, and /proc/stat's busy, irq, steal. */
  record CpuSample(long wall, double own, Double server, double[] system) {}

  static CpuSample cpuSample() {
    double own =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime()
            / 1e9;
    Double server = null;
    if (SERVER_PID > 0) {
      try {
        String stat =
            new String(
                java.nio.file.Files.readAllBytes(
                    java.nio.file.Paths.get("/proc/" + SERVER_PID + "/stat")));
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        server = Double.parseDouble(rest[11]) + Double.parseDouble(rest[12]);
      } catch (Exception e) {
        server = null;
      }
    }
    double[] system = null;
    try {
      String line = java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      double[] v = new double[8];
      for (int i = 0; i < 8 && i + 1 < f.length; i++) v[i] = Double.parseDouble(f[i + 1]);
      system = new double[] {v[0] + v[1] + v[2] + v[5] + v[6], v[5] + v[6], v[7]};
    } catch (Exception e) {
      system = null;
    }
    return new CpuSample(System.nanoTime(), own, server, system);
  }

  /** harness, server, other processes (cores), irq and steal over the span from a to b. */
  static Map<String, Object> hostCpu(CpuSample a, CpuSample b) {
    double wall = (b.wall() - a.wall()) / 1e9;
    double harness = b.own() - a.own();
    Double server =
        a.server() != null && b.server() != null ? (b.server() - a.server()) / CLK_TCK : null;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("harness_cpu_s", harness);
    m.put("server_cpu_s", server);
    Double other = null;
    Double irq = null;
    Double steal = null;
    if (a.system() != null && b.system() != null) {
      double busy = (b.system()[0] - a.system()[0]) / CLK_TCK;
      irq = (b.system()[1] - a.system()[1]) / CLK_TCK;
      steal = (b.system()[2] - a.system()[2]) / CLK_TCK;
      if (server != null && wall > 0) other = Math.max(0, busy - irq - harness - server) / wall;
    }
    m.put("other_cpu_per_wall_s", other);
    m.put("irq_softirq_s", irq);
    m.put("steal_s", steal);
    return m;
  }

  // ---------------------------------------------------------------- mntr and statistics

  Map<String, Object> mntr() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 10_000);
      s.setSoTimeout(10_000);
      OutputStream o = s.getOutputStream();
      o.write("mntr".getBytes(StandardCharsets.US_ASCII));
      o.flush();
      InputStream in = s.getInputStream();
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      Map<String, Object> m = new LinkedHashMap<>();
      String line;
      while ((line = r.readLine()) != null) {
        int tab = line.indexOf('\t');
        if (tab < 0) continue;
        String key = line.substring(0, tab).trim();
        String value = line.substring(tab + 1).trim();
        try {
          m.put(key, Double.parseDouble(value));
        } catch (NumberFormatException e) {
          m.put(key, value);
        }
      }
      return m;
    }
  }

  static double num(Map<String, Object> m, String key) {
    Object v = m.get(key);
    if (v instanceof Double) return (Double) v;
    throw new IllegalStateException("mntr has no numeric " + key);
  }

  static Map<String, Double> counters(Map<String, Object> m) {
    Map<String, Double> c = new LinkedHashMap<>();
    c.put("packets_received", num(m, "zk_packets_received"));
    c.put("packets_sent", num(m, "zk_packets_sent"));
    c.put("bytes_received", num(m, "zk_bytes_received_count"));
    c.put("response_bytes", num(m, "zk_response_bytes"));
    c.put("watch_bytes", num(m, "zk_watch_bytes"));
    c.put("writes", num(m, "zk_cnt_updatelatency"));
    c.put("reads", num(m, "zk_cnt_readlatency"));
    c.put("fsyncs", num(m, "zk_cnt_fsynctime"));
    double w = 0;
    for (String kind : new String[] {"created", "deleted", "changed", "children"}) {
      w += num(m, "zk_sum_node_" + kind + "_watch_count");
    }
    c.put("watch_notifications", w);
    return c;
  }

  static Map<String, Double> diff(Map<String, Object> before, Map<String, Object> after) {
    Map<String, Double> a = counters(after);
    Map<String, Double> b = counters(before);
    Map<String, Double> d = new LinkedHashMap<>();
    for (String k : COUNTER_KEYS) d.put(k, a.get(k) - b.get(k));
    return d;
  }

  static Double serverAvg(Map<String, Object> before, Map<String, Object> after, String what) {
    double count = num(after, "zk_cnt_" + what) - num(before, "zk_cnt_" + what);
    if (count <= 0) return null;
    return (num(after, "zk_sum_" + what) - num(before, "zk_sum_" + what)) / count;
  }

  Map<String, Object> sectionDelta(
      Map<String, Object> before, Map<String, Object> after, int units) {
    Map<String, Double> d = diff(before, after);
    Map<String, Double> total = new LinkedHashMap<>();
    Map<String, Double> perUnit = new LinkedHashMap<>();
    for (String k : COUNTER_KEYS) {
      double v = d.get(k) - overhead.get(k);
      total.put(k, v);
      perUnit.put(k, units > 0 ? v / units : 0);
    }
    Map<String, Object> server = new LinkedHashMap<>();
    server.put("fsync_ms_avg", serverAvg(before, after, "fsynctime"));
    server.put("write_ms_avg", serverAvg(before, after, "updatelatency"));
    server.put("read_ms_avg", serverAvg(before, after, "readlatency"));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("units", units);
    out.put("total", total);
    out.put("per_unit", perUnit);
    out.put("server", server);
    return out;
  }

  /** n, p50, p99 (nearest rank: index ceil(p/100·n) − 1), mean, min, max of {@code samples}. */
  static Map<String, Object> summarize(List<Double> samples, double factor) {
    double[] s = new double[samples.size()];
    for (int i = 0; i < s.length; i++) s[i] = samples.get(i) * factor;
    Arrays.sort(s);
    int n = s.length;
    double sum = 0;
    for (double v : s) sum += v;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("n", n);
    m.put("p50", s[Math.max(0, (int) Math.ceil(0.50 * n) - 1)]);
    m.put("p99", s[Math.max(0, (int) Math.ceil(0.99 * n) - 1)]);
    m.put("mean", sum / n);
    m.put("min", s[0]);
    m.put("max", s[n - 1]);
    return m;
  }

  static byte[] payload(int i) {
    return String.format("%016d", i).getBytes(StandardCharsets.US_ASCII);
  }

  static void ensure(CuratorFramework c, String path) throws Exception {
    if (c.checkExists().forPath(path) == null) {
      try {
        c.create().creatingParentsIfNeeded().forPath(path, new byte[0]);
      } catch (org.apache.zookeeper.KeeperException.NodeExistsException e) {
        // created meanwhile
      }
    }
  }

  // ---------------------------------------------------------------- S0

  Map<String, Object> s0(Scenario ctx) throws Exception {
    int warmup = ctx.param("warmup", ctx.count(100, 10));
    int ops = ctx.param("ops", ctx.count(1000, 20));
    CuratorFramework c = ctx.client();
    String base = "/bench/s0";
    String node = base + "/n";
    ensure(c, base);
    for (int i = 0; i < warmup; i++) c.checkExists().forPath(base);
    for (int i = 0; i < warmup; i++) {
      c.create().withMode(CreateMode.EPHEMERAL).forPath(node, new byte[0]);
      c.delete().forPath(node);
    }
    List<Double> exists = new ArrayList<>();
    double a =
        ctx.section(
            "exists",
            ops,
            () -> {
              for (int i = 0; i < ops; i++) {
                long t = System.nanoTime();
                c.checkExists().forPath(base);
                exists.add((double) (System.nanoTime() - t));
              }
            });
    List<Double> pairs = new ArrayList<>();
    double b =
        ctx.section(
            "create_delete",
            ops,
            () -> {
              for (int i = 0; i < ops; i++) {
                long t = System.nanoTime();
                c.create().withMode(CreateMode.EPHEMERAL).forPath(node, new byte[0]);
                c.delete().forPath(node);
                pairs.add((double) (System.nanoTime() - t));
              }
            });
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("exists_us", summarize(exists, 1e-3));
    r.put("create_delete_us", summarize(pairs, 1e-3));
    r.put("exists_ops_s", ops / a);
    r.put("create_delete_pairs_s", ops / b);
    return r;
  }

  // ---------------------------------------------------------------- S1, S2

  Map<String, Object> s1(Scenario ctx) throws Exception {
    int warmup = ctx.param("warmup", ctx.count(200, 10));
    int cycles = ctx.param("cycles", ctx.count(2000, 50));
    CuratorFramework c = ctx.client();
    InterProcessMutex mutex = new InterProcessMutex(c, "/bench/s1/lock");
    for (int i = 0; i < warmup; i++) {
      acquire(mutex);
      mutex.release();
    }
    List<Double> samples = new ArrayList<>();
    double wall =
        ctx.section(
            "cycle",
            cycles,
            () -> {
              for (int i = 0; i < cycles; i++) {
                long t = System.nanoTime();
                acquire(mutex);
                mutex.release();
                samples.add((double) (System.nanoTime() - t));
              }
            });
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("cycle_us", summarize(samples, 1e-3));
    r.put("cycles_per_s", cycles / wall);
    r.put("wall_s", wall);
    return r;
  }

  static void acquire(InterProcessMutex mutex) throws Exception {
    if (!mutex.acquire(ACQUIRE_BOUND_S, TimeUnit.SECONDS)) {
      throw new IllegalStateException("lock acquire did not finish within 60 s");
    }
  }

  /**
   * S7: DistributedAtomicLong, C sessions on one node, T increments in total behind a start gate,
   * each retried until it succeeds (RetryNTimes(10000, 1)).
   */
  Map<String, Object> s7(Scenario ctx, int sessions) throws Exception {
    int total = ctx.param("increments", ctx.count(2000, 2 * sessions));
    ctx.param("sessions", sessions);
    String path = "/bench/s7-c" + sessions + "/counter";
    List<DistributedAtomicLong> counters = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      counters.add(new DistributedAtomicLong(ctx.client(), path, new RetryNTimes(10_000, 1)));
    }
    counters.get(0).forceSet(0L);
    for (DistributedAtomicLong c : counters) c.get();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch gate = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < sessions; w++) {
      final int quota = total / sessions + (w < total % sessions ? 1 : 0);
      DistributedAtomicLong counter = counters.get(w);
      Thread t =
          new Thread(
              () -> {
                try {
                  gate.await();
                  for (int n = 0; n < quota; n++) {
                    if (!counter.increment().succeeded()) failed.incrementAndGet();
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              });
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    double wall =
        ctx.section(
            "increment",
            total,
            () -> {
              gate.countDown();
              for (Thread t : workers) t.join();
            });
    if (failure.get() != null) throw new Exception(failure.get());
    long value = counters.get(0).get().postValue();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("wall_s", wall);
    r.put("increments_per_s", total / wall);
    r.put("failed", failed.get());
    r.put("counter_ok", failed.get() == 0 && value == total);
    return r;
  }

  Map<String, Object> s2(Scenario ctx, int sessions) throws Exception {
    int total = ctx.param("acquisitions", ctx.count(2000, 2 * sessions));
    ctx.param("sessions", sessions);
    String path = "/bench/s2-c" + sessions + "/lock";
    List<InterProcessMutex> mutexes = new ArrayList<>();
    for (int i = 0; i < sessions; i++) mutexes.add(new InterProcessMutex(ctx.client(), path));
    for (InterProcessMutex m : mutexes) {
      acquire(m);
      m.release();
    }
    Object flagLock = new Object();
    int[] holder = {-1};
    AtomicInteger violations = new AtomicInteger();
    int[] counter = {0};
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch gate = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < sessions; w++) {
      final int me = w;
      final int quota = total / sessions + (me < total % sessions ? 1 : 0);
      InterProcessMutex mutex = mutexes.get(me);
      Thread t =
          new Thread(
              () -> {
                try {
                  gate.await();
                  for (int n = 0; n < quota; n++) {
                    acquire(mutex);
                    synchronized (flagLock) {
                      if (holder[0] != -1) violations.incrementAndGet();
                      holder[0] = me;
                    }
                    int v = counter[0];
                    Thread.yield();
                    counter[0] = v + 1;
                    synchronized (flagLock) {
                      if (holder[0] != me) violations.incrementAndGet();
                      holder[0] = -1;
                    }
                    mutex.release();
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              });
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    double wall =
        ctx.section(
            "acquisition",
            total,
            () -> {
              gate.countDown();
              for (Thread t : workers) t.join();
            });
    if (failure.get() != null) throw new Exception(failure.get());
    int finalCounter;
    synchronized (flagLock) {
      finalCounter = counter[0];
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("wall_s", wall);
    r.put("acquisitions_per_s", total / wall);
    r.put("violations", violations.get());
    r.put("counter", finalCounter);
    r.put("counter_ok", finalCounter == total);
    return r;
  }

  // ---------------------------------------------------------------- S3, S3-crash

  /** A leader notification: who, and when (System.nanoTime() on the listener's thread). */
  record Elected(String who, long at) {}

  LeaderLatch join(
      Scenario ctx, CuratorFramework client, String path, String id, BlockingQueue<Elected> events)
      throws Exception {
    LeaderLatch latch = new LeaderLatch(client, path, id);
    latch.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            events.add(new Elected(id, System.nanoTime()));
          }

          @Override
          public void notLeader() {}
        });
    ctx.defer(
        () -> {
          if (latch.getState() == LeaderLatch.State.STARTED) latch.close();
        });
    latch.start();
    return latch;
  }

  /** Waits until the latch has its election node, reading only its local field (no request). */
  static void joined(LeaderLatch latch, long boundMs) throws Exception {
    long deadline = System.nanoTime() + boundMs * 1_000_000;
    while (latch.getOurPath() == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("joining took over " + boundMs + " ms");
      }
      Thread.yield();
    }
  }

  static Elected next(BlockingQueue<Elected> events, long boundMs, String what) throws Exception {
    Elected e = events.poll(boundMs, TimeUnit.MILLISECONDS);
    if (e == null) {
      throw new IllegalStateException(what + " did not happen within " + boundMs + " ms");
    }
    return e;
  }

  Map<String, Object> s3(Scenario ctx) throws Exception {
    int k = ctx.param("candidates", 5);
    int rounds = ctx.param("rounds", ctx.count(30, 5));
    ctx.param("session_timeout_ms", ELECTION_SESSION_TIMEOUT);
    String path = "/bench/s3/election";
    BlockingQueue<Elected> events = new ArrayBlockingQueue<>(1000);
    Map<String, CuratorFramework> clients = new LinkedHashMap<>();
    Map<String, LeaderLatch> latches = new ConcurrentHashMap<>();
    for (int i = 0; i < k; i++) {
      String id = "c" + i;
      CuratorFramework c = ctx.client(ELECTION_SESSION_TIMEOUT);
      clients.put(id, c);
      LeaderLatch latch = join(ctx, c, path, id, events);
      latches.put(id, latch);
      joined(latch, LEADER_BOUND_MS);
    }
    String leader = next(events, LEADER_BOUND_MS, "the first leader notification").who();
    Thread.sleep(100);
    List<Double> samples = new ArrayList<>();
    String[] current = {leader};
    ctx.section(
        "handoff",
        rounds,
        () -> {
          for (int r = 0; r < rounds; r++) {
            String l = current[0];
            LeaderLatch latch = latches.get(l);
            long t0 = System.nanoTime();
            latch.close();
            Elected e = next(events, LEADER_BOUND_MS, "a new leader notification");
            if (e.who().equals(l)) {
              throw new IllegalStateException(l + " was notified again right after leaving");
            }
            samples.add((double) (e.at() - t0));
            current[0] = e.who();
            LeaderLatch again = join(ctx, clients.get(l), path, l, events);
            latches.put(l, again);
            joined(again, LEADER_BOUND_MS);
            Thread.sleep(20);
          }
        });
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("handoff_ms", summarize(samples, 1e-6));
    List<Double> ms = new ArrayList<>();
    for (double s : samples) ms.add(s / 1e6);
    r.put("samples_ms", ms);
    return r;
  }

  /** The crashing leader: a 4000 ms session, one latch, {@code LEADER <timeout> <session>}. */
  static void crashChild(String connect, String path) throws Exception {
    Thread killer =
        new Thread(
            () -> {
              try {
                Thread.sleep(120_000);
              } catch (InterruptedException e) {
                // exit anyway
              }
              Runtime.getRuntime().halt(0);
            });
    killer.setDaemon(true);
    killer.start();
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(ELECTION_SESSION_TIMEOUT)
            .retryPolicy(new ExponentialBackoffRetry(1000, 3))
            .build();
    c.start();
    c.blockUntilConnected();
    LeaderLatch latch = new LeaderLatch(c, path, "crash-child");
    latch.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            try {
              org.apache.zookeeper.ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
              System.out.println(
                  "LEADER " + zk.getSessionTimeout() + " 0x" + Long.toHexString(zk.getSessionId()));
              System.out.flush();
            } catch (Exception e) {
              System.out.println("ERROR " + e);
              System.out.flush();
            }
          }

          @Override
          public void notLeader() {}
        });
    latch.start();
    Thread.sleep(Long.MAX_VALUE);
  }

  Map<String, Object> crashOnce(Scenario ctx, int rep, int k) throws Exception {
    String path = "/bench/s3crash-" + rep + "/election";
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    ProcessBuilder pb =
        new ProcessBuilder(
            java,
            "-Dbench.child=1",
            "-cp",
            System.getProperty("java.class.path"),
            "CuratorBench",
            "crash-child",
            connect,
            path);
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process child = pb.start();
    ctx.defer(
        () -> {
          child.destroyForcibly();
          child.waitFor();
        });
    BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    BlockingQueue<String> lines = new ArrayBlockingQueue<>(16);
    Thread reader =
        new Thread(
            () -> {
              try {
                String line;
                while ((line = out.readLine()) != null) lines.add(line);
              } catch (Exception e) {
                // the child died
              }
              lines.add("EOF");
            });
    reader.setDaemon(true);
    reader.start();
    String line = lines.poll(CHILD_START_BOUND_MS, TimeUnit.MILLISECONDS);
    if (line == null || !line.startsWith("LEADER ")) {
      throw new IllegalStateException("the crash child was not elected: " + line);
    }
    int timeout = Integer.parseInt(line.split(" ")[1]);
    BlockingQueue<Elected> events = new ArrayBlockingQueue<>(100);
    List<LeaderLatch> latches = new ArrayList<>();
    for (int i = 0; i < k - 1; i++) {
      CuratorFramework c = ctx.client(ELECTION_SESSION_TIMEOUT);
      LeaderLatch latch = join(ctx, c, path, "c" + i, events);
      joined(latch, CRASH_BOUND_MS);
      latches.add(latch);
    }
    for (LeaderLatch l : latches) {
      if (l.hasLeadership()) {
        throw new IllegalStateException("a candidate leads while the crash child is alive");
      }
    }
    if (!events.isEmpty()) {
      throw new IllegalStateException("a candidate was notified while the crash child is alive");
    }
    Thread.sleep(200);
    long t0 = System.nanoTime();
    child.destroyForcibly();
    Elected e = next(events, CRASH_BOUND_MS, "failover");
    child.waitFor();
    for (LeaderLatch l : latches) l.close();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("failover_ms", (e.at() - t0) / 1e6);
    r.put("negotiated_timeout_ms", timeout);
    return r;
  }

  Map<String, Object> s3Crash(Scenario ctx) throws Exception {
    int reps = ctx.param("reps", 3);
    int k = ctx.param("candidates", 5);
    ctx.param("session_timeout_ms", ELECTION_SESSION_TIMEOUT);
    List<Double> samples = new ArrayList<>();
    int timeout = ELECTION_SESSION_TIMEOUT;
    for (int rep = 0; rep < reps; rep++) {
      Map<String, Object> one = crashOnce(ctx, rep, k);
      samples.add((Double) one.get("failover_ms"));
      timeout = (Integer) one.get("negotiated_timeout_ms");
    }
    boolean within = true;
    for (double s : samples) within &= s <= timeout + 1000;
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("failover_ms", samples);
    r.put("failover", summarize(samples, 1));
    r.put("negotiated_timeout_ms", timeout);
    r.put("within_timeout_plus_1s", within);
    return r;
  }

  // ---------------------------------------------------------------- S4

  static final QueueSerializer<byte[]> IDENTITY =
      new QueueSerializer<byte[]>() {
        @Override
        public byte[] serialize(byte[] item) {
          return item;
        }

        @Override
        public byte[] deserialize(byte[] bytes) {
          return bytes;
        }
      };

  /** Receive counts per item index (S4's exactly-once check). */
  static final class Receipts {
    final AtomicInteger[] counts;
    final AtomicInteger distinct = new AtomicInteger();
    final AtomicInteger malformed = new AtomicInteger();
    final CountDownLatch all = new CountDownLatch(1);
    final AtomicLong t1 = new AtomicLong();

    Receipts(int n) {
      counts = new AtomicInteger[n];
      for (int i = 0; i < n; i++) counts[i] = new AtomicInteger();
    }

    void receive(byte[] value) {
      long at = System.nanoTime();
      String s = value == null ? "" : new String(value, StandardCharsets.US_ASCII);
      int i = s.matches("\\d{16}") ? Integer.parseInt(s) : -1;
      if (i < 0 || i >= counts.length) {
        malformed.incrementAndGet();
        return;
      }
      if (counts[i].incrementAndGet() == 1 && distinct.incrementAndGet() == counts.length) {
        t1.set(at);
        all.countDown();
      }
    }

    boolean complete() {
      return distinct.get() >= counts.length;
    }

    void report(Map<String, Object> r) {
      int missing = 0;
      int duplicates = 0;
      for (AtomicInteger c : counts) {
        if (c.get() == 0) missing++;
        else duplicates += c.get() - 1;
      }
      r.put("missing", missing);
      r.put("duplicates", duplicates);
      r.put("malformed", malformed.get());
      r.put("exactly_once", missing == 0 && duplicates == 0 && malformed.get() == 0);
    }
  }

  static int leftIn(CuratorFramework c, String path) throws Exception {
    return c.checkExists().forPath(path) == null ? 0 : c.getChildren().forPath(path).size();
  }

  Map<String, Object> s4Distributed(Scenario ctx, String base, int n, boolean locking)
      throws Exception {
    int items = ctx.param("items", ctx.count(n, 50));
    String path = base + "/queue";
    CuratorFramework pc = ctx.client();
    QueueBuilder<byte[]> pb = QueueBuilder.builder(pc, null, IDENTITY, path).putInBackground(false);
    if (locking) pb = pb.lockPath(base + "/locks");
    DistributedQueue<byte[]> producer = pb.buildQueue();
    producer.start();
    ctx.defer(producer);
    producer.put(payload(0));
    double produce =
        ctx.section(
            "produce",
            items - 1,
            () -> {
              for (int i = 1; i < items; i++) producer.put(payload(i));
            });
    Receipts receipts = new Receipts(items);
    List<DistributedQueue<byte[]>> consumers = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      QueueConsumer<byte[]> consumer =
          new QueueConsumer<byte[]>() {
            @Override
            public void consumeMessage(byte[] message) {
              receipts.receive(message);
            }

            @Override
            public void stateChanged(CuratorFramework client, ConnectionState newState) {}
          };
      QueueBuilder<byte[]> b =
          QueueBuilder.builder(ctx.client(), consumer, IDENTITY, path).putInBackground(false);
      if (locking) b = b.lockPath(base + "/locks");
      DistributedQueue<byte[]> q = b.buildQueue();
      ctx.defer(q);
      consumers.add(q);
    }
    long[] t0 = {0};
    ctx.section(
        "consume",
        items,
        () -> {
          t0[0] = System.nanoTime();
          for (DistributedQueue<byte[]> q : consumers) q.start();
          if (!receipts.all.await(DRAIN_BOUND_MS, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("queue drain did not finish within 300 s");
          }
        });
    double consume = (receipts.t1.get() - t0[0]) / 1e9;
    Thread.sleep(500);
    for (DistributedQueue<byte[]> q : consumers) q.close();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("produce_items_per_s", (items - 1) / produce);
    r.put("consume_items_per_s", items / consume);
    receipts.report(r);
    r.put("left_in_queue", leftIn(pc, path));
    return r;
  }

  Map<String, Object> s4Simple(Scenario ctx) throws Exception {
    int items = ctx.param("items", ctx.count(5000, 50));
    String path = "/bench/s4b/queue";
    CuratorFramework pc = ctx.client();
    SimpleDistributedQueue producer = new SimpleDistributedQueue(pc, path);
    producer.offer(payload(0));
    double produce =
        ctx.section(
            "produce",
            items - 1,
            () -> {
              for (int i = 1; i < items; i++) producer.offer(payload(i));
            });
    Receipts receipts = new Receipts(items);
    CountDownLatch gate = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> workers = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      SimpleDistributedQueue q = new SimpleDistributedQueue(ctx.client(), path);
      Thread t =
          new Thread(
              () -> {
                try {
                  gate.await();
                  byte[] item;
                  while ((item = q.poll()) != null) receipts.receive(item);
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              });
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    long[] t0 = {0};
    ctx.section(
        "consume",
        items,
        () -> {
          t0[0] = System.nanoTime();
          gate.countDown();
          long deadline = System.nanoTime() + DRAIN_BOUND_MS * 1_000_000;
          while (!receipts.all.await(100, TimeUnit.MILLISECONDS)) {
            if (failure.get() != null) throw new Exception(failure.get());
            boolean alive = false;
            for (Thread t : workers) alive |= t.isAlive();
            if (!alive) {
              throw new IllegalStateException("the consumers found the queue empty early");
            }
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("queue drain did not finish within 300 s");
            }
          }
        });
    double consume = (receipts.t1.get() - t0[0]) / 1e9;
    Thread.sleep(500);
    for (Thread t : workers) t.join(DRAIN_BOUND_MS);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("produce_items_per_s", (items - 1) / produce);
    r.put("consume_items_per_s", items / consume);
    receipts.report(r);
    r.put("left_in_queue", leftIn(pc, path));
    return r;
  }

  // ---------------------------------------------------------------- S5

  Map<String, Object> s5(Scenario ctx) throws Exception {
    int members = ctx.param("members", 16);
    int rounds = ctx.param("rounds", ctx.count(20, 3));
    List<CuratorFramework> clients = new ArrayList<>();
    for (int i = 0; i < members; i++) clients.add(ctx.client());
    List<List<DistributedDoubleBarrier>> barriers = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      List<DistributedDoubleBarrier> round = new ArrayList<>();
      for (CuratorFramework c : clients) {
        round.add(new DistributedDoubleBarrier(c, "/bench/s5/round-" + r, members));
      }
      barriers.add(round);
    }
    List<Double> samples = new ArrayList<>();
    ctx.section(
        "member_round",
        members * rounds,
        () -> {
          for (List<DistributedDoubleBarrier> round : barriers) {
            CountDownLatch gate = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (DistributedDoubleBarrier b : round) {
              Thread t =
                  new Thread(
                      () -> {
                        try {
                          gate.await();
                          if (!b.enter(BARRIER_BOUND_S, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("barrier enter took over 60 s");
                          }
                          if (!b.leave(BARRIER_BOUND_S, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("barrier leave took over 60 s");
                          }
                        } catch (Throwable e) {
                          failure.compareAndSet(null, e);
                        }
                      });
              t.setDaemon(true);
              t.start();
              workers.add(t);
            }
            long t0 = System.nanoTime();
            gate.countDown();
            long deadline = t0 + BARRIER_ROUND_BOUND_MS * 1_000_000L;
            for (Thread t : workers) {
              long left = (deadline - System.nanoTime()) / 1_000_000L;
              if (left > 0) t.join(left);
            }
            for (Thread t : workers) {
              if (t.isAlive()) throw new IllegalStateException("a barrier round took over 150 s");
            }
            samples.add((double) (System.nanoTime() - t0));
            if (failure.get() != null) throw new Exception(failure.get());
          }
        });
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("round_ms", summarize(samples, 1e-6));
    r.put("member_rounds", members * rounds);
    return r;
  }

  // ---------------------------------------------------------------- S6

  Map<String, Object> s6(Scenario ctx) throws Exception {
    int n = ctx.param("instances", ctx.count(200, 20));
    String base = "/bench/s6";
    CuratorFramework rc = ctx.client();
    CuratorFramework wc = ctx.client();
    ensure(rc, base + "/api");
    ServiceDiscovery<Void> r =
        ServiceDiscoveryBuilder.builder(Void.class).client(rc).basePath(base).build();
    ctx.defer(r);
    r.start();
    ServiceDiscovery<Void> w =
        ServiceDiscoveryBuilder.builder(Void.class).client(wc).basePath(base).build();
    ctx.defer(w);
    w.start();
    Map<String, Long> seen = new ConcurrentHashMap<>();
    Object signal = new Object();
    ServiceCache<Void> cache = w.serviceCacheBuilder().name("api").build();
    ctx.defer(cache);
    cache.addListener(
        new ServiceCacheListener() {
          @Override
          public void cacheChanged() {
            long at = System.nanoTime();
            boolean added = false;
            for (ServiceInstance<Void> i : cache.getInstances()) {
              if (seen.putIfAbsent(i.getId(), at) == null) added = true;
            }
            if (added) {
              synchronized (signal) {
                signal.notifyAll();
              }
            }
          }

          @Override
          public void stateChanged(CuratorFramework client, ConnectionState newState) {}
        });
    cache.start();

    List<Double> afterReturn = new ArrayList<>();
    List<Double> afterStart = new ArrayList<>();
    List<Double> call = new ArrayList<>();
    int[] negative = {0};
    ctx.section(
        "register",
        n,
        () -> {
          for (int i = 0; i < n; i++) {
            String id = String.format("inst-%03d", i);
            ServiceInstance<Void> instance =
                ServiceInstance.<Void>builder()
                    .name("api")
                    .id(id)
                    .address("127.0.0.1")
                    .port(20_000 + i)
                    .build();
            long a = System.nanoTime();
            r.registerService(instance);
            long b = System.nanoTime();
            long deadline = b + VISIBLE_BOUND_MS * 1_000_000;
            synchronized (signal) {
              while (!seen.containsKey(id)) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) throw new IllegalStateException(id + " was not visible within 10 s");
                signal.wait(left);
              }
            }
            long s = seen.get(id);
            if (s < b) negative[0]++;
            afterReturn.add((double) (s - b));
            afterStart.add((double) (s - a));
            call.add((double) (b - a));
          }
        });
    if (cache.getInstances().size() != n) {
      throw new IllegalStateException(
          "the cache holds " + cache.getInstances().size() + " instances, not " + n);
    }
    CuratorFramework qc = ctx.client();
    ServiceDiscovery<Void> q =
        ServiceDiscoveryBuilder.builder(Void.class).client(qc).basePath(base).build();
    ctx.defer(q);
    q.start();
    double[] cold = {0};
    ctx.section(
        "cold_query",
        1,
        () -> {
          long t = System.nanoTime();
          Collection<ServiceInstance<Void>> found = q.queryForInstances("api");
          cold[0] = (System.nanoTime() - t) / 1e6;
          if (found.size() != n) {
            throw new IllegalStateException("the cold query found " + found.size() + ", not " + n);
          }
        });
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("visible_after_return_ms", summarize(afterReturn, 1e-6));
    out.put("visible_after_call_start_ms", summarize(afterStart, 1e-6));
    out.put("register_call_ms", summarize(call, 1e-6));
    out.put("negative_samples", negative[0]);
    out.put("cold_query_ms", cold[0]);
    return out;
  }

  // ---------------------------------------------------------------- S8

  /** Heap in use after a full collection, bytes. */
  static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) System.gc();
    return rt.totalMemory() - rt.freeMemory();
  }

  Map<String, Object> s8(Scenario ctx) throws Exception {
    int target = ctx.param("nodes", ctx.count(10_000, 200));
    int parents = ctx.param("parents", Math.max(2, Math.round(target / 100f)));
    int leaves = ctx.param("leaves_per_parent", 99);
    int changes = ctx.param("changes", ctx.count(500, 50));
    String root = "/bench/s8";
    CuratorFramework writer = ctx.client();
    ensure(writer, root);
    byte[] data = new byte[32];
    Arrays.fill(data, (byte) 'x');
    List<String> paths = new ArrayList<>();
    for (int p = 0; p < parents; p++) paths.add(String.format("%s/p%03d", root, p));
    for (int p = 0; p < parents; p++) {
      for (int c = 0; c < leaves; c++) paths.add(String.format("%s/p%03d/c%02d", root, p, c));
    }
    // Created in the background, 1000 at a time (parents first: they are the first chunk).
    for (int at = 0; at < paths.size(); at += 1000) {
      List<String> chunk = paths.subList(at, Math.min(paths.size(), at + 1000));
      CountDownLatch done = new CountDownLatch(chunk.size());
      for (String path : chunk) {
        writer.create().inBackground((cl, event) -> done.countDown()).forPath(path, data);
      }
      if (!done.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("setup timed out");
    }
    int nodes = 1 + paths.size();

    CuratorFramework loader = ctx.client();
    long heapBefore = usedHeap();
    CountDownLatch initialized = new CountDownLatch(1);
    Map<String, Long> seen = new ConcurrentHashMap<>();
    Object signal = new Object();
    CuratorCache cache = CuratorCache.build(loader, root);
    cache.listenable().addListener(
        CuratorCacheListener.builder()
            .forInitialized(initialized::countDown)
            .forChanges(
                (before, after) -> {
                  seen.put(after.getPath(), System.nanoTime());
                  synchronized (signal) {
                    signal.notifyAll();
                  }
                })
            .build());
    double[] loadMs = {0};
    ctx.section(
        "load",
        1,
        () -> {
          long t = System.nanoTime();
          cache.start();
          if (!initialized.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the cache was not loaded within 120 s");
          }
          loadMs[0] = (System.nanoTime() - t) / 1e6;
        });
    ctx.defer(cache);
    if (cache.size() != nodes) {
      throw new IllegalStateException("the cache holds " + cache.size() + " nodes, not " + nodes);
    }
    double heapPerNode = (usedHeap() - heapBefore) / (double) nodes;

    List<Double> afterReturn = new ArrayList<>();
    List<Double> afterStart = new ArrayList<>();
    ctx.section(
        "change",
        changes,
        () -> {
          for (int i = 0; i < changes; i++) {
            String path =
                String.format("%s/p%03d/c%02d", root, i % parents, (i / parents) % leaves);
            seen.remove(path);
            long a = System.nanoTime();
            writer
                .setData()
                .forPath(path, String.format("change %025d", i).getBytes(StandardCharsets.UTF_8));
            long b = System.nanoTime();
            long deadline = b + VISIBLE_BOUND_MS * 1_000_000;
            synchronized (signal) {
              while (!seen.containsKey(path)) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) throw new IllegalStateException(path + " did not change within 10 s");
                signal.wait(left);
              }
            }
            long s = seen.get(path);
            afterReturn.add((double) (s - b));
            afterStart.add((double) (s - a));
          }
        });
    cache.close();
    writer.delete().deletingChildrenIfNeeded().forPath(root);
    @SuppressWarnings("unchecked")
    Map<String, Object> load = (Map<String, Object>) ctx.recorded.get("mntr_load");
    @SuppressWarnings("unchecked")
    Map<String, Object> change = (Map<String, Object>) ctx.recorded.get("mntr_change");
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("nodes", nodes);
    out.put("load_ms", loadMs[0]);
    out.put("load_requests", ((Map<?, ?>) load.get("total")).get("packets_received"));
    out.put("load_response_bytes", ((Map<?, ?>) load.get("total")).get("response_bytes"));
    out.put("change_to_event_ms", summarize(afterReturn, 1e-6));
    out.put("change_to_event_from_call_ms", summarize(afterStart, 1e-6));
    out.put(
        "cache_requests_per_change",
        ((Number) ((Map<?, ?>) change.get("per_unit")).get("packets_received")).doubleValue() - 1);
    out.put("heap_bytes_per_node", heapPerNode);
    return out;
  }
}
