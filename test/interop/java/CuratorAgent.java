import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.locks.Revoker;
import org.apache.curator.framework.recipes.queue.DistributedDelayQueue;
import org.apache.curator.framework.recipes.queue.DistributedIdQueue;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.queue.DistributedPriorityQueue;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.apache.zookeeper.data.Stat;

/**
 * A Curator 5 process that Node tests drive line by line, to check that zkit and Curator
 * coordinate on the same znodes.
 *
 * <p>Usage: {@code java CuratorAgent <connectString> [sessionTimeoutMs]}. One CuratorFramework
 * (one ZooKeeper session) per process. Input: one command per line, {@code <id> <command>
 * <args...>}, arguments separated by blanks; the last argument of {@code queue.put}, {@code
 * pqueue.put}, {@code dqueue.put} and {@code idqueue.put} is the rest of the line. Output: one JSON object per line. Every command gets
 * {@code {"event":"ack","id":..}} or {@code {"event":"error","id":..,"error":..}}; recipes also
 * report asynchronous events (isLeader, notLeader, consumed, discovery.changed, state).
 *
 * <p>Locks belong to threads in Curator, so every lock and barrier participant gets its own
 * thread (its "lane"), keyed by path and an optional owner name; other commands run concurrently.
 * System.out is redirected to stderr so nothing but protocol lines reach stdout.
 */
public final class CuratorAgent {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DEFAULT_OWNER = "default";
  private static PrintStream protocol;

  private final CuratorFramework client;
  private final Map<String, ExecutorService> lanes = new ConcurrentHashMap<>();
  private final ExecutorService shared = Executors.newCachedThreadPool(daemon("agent-shared"));
  private final Map<String, InterProcessMutex> mutexes = new ConcurrentHashMap<>();
  private final Map<String, InterProcessMultiLock> multiLocks = new ConcurrentHashMap<>();
  private final Map<String, InterProcessReadWriteLock> rwlocks = new ConcurrentHashMap<>();
  private final Map<String, Lease> leases = new ConcurrentHashMap<>();
  private final Map<String, LeaderLatch> latches = new ConcurrentHashMap<>();
  private final Map<String, LeaderSelector> selectors = new ConcurrentHashMap<>();
  private final Map<String, DistributedDoubleBarrier> doubleBarriers = new ConcurrentHashMap<>();
  private final Map<String, DistributedQueue<byte[]>> producers = new ConcurrentHashMap<>();
  private final Map<String, DistributedPriorityQueue<byte[]>> priorityProducers =
      new ConcurrentHashMap<>();
  private final Map<String, DistributedDelayQueue<byte[]>> delayProducers = new ConcurrentHashMap<>();
  private final Map<String, DistributedIdQueue<byte[]>> idProducers = new ConcurrentHashMap<>();
  private final Map<String, AutoCloseable> consumers = new ConcurrentHashMap<>();
  private final Map<String, ServiceDiscovery<Void>> discoveries = new ConcurrentHashMap<>();
  private final Map<String, ServiceCache<Void>> caches = new ConcurrentHashMap<>();
  private final Map<String, GroupMember> groupMembers = new ConcurrentHashMap<>();
  private final Map<String, CuratorCache> treeCaches = new ConcurrentHashMap<>();

  private CuratorAgent(CuratorFramework client) {
    this.client = client;
  }

  public static void main(String[] args) throws Exception {
    protocol = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    if (args.length < 1) {
      emit(event("fatal").put("error", "usage: CuratorAgent <connectString> [sessionTimeoutMs]"));
      System.exit(2);
    }
    int sessionTimeoutMs = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(args[0])
            .sessionTimeoutMs(sessionTimeoutMs)
            .connectionTimeoutMs(15_000)
            .retryPolicy(new ExponentialBackoffRetry(100, 5))
            // The ensemble tracker would rewrite a chrooted connect string from /zookeeper/config.
            .ensembleTracker(false)
            .build();
    client
        .getConnectionStateListenable()
        .addListener((c, state) -> emit(event("state").put("state", state.name())));
    client.start();
    if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
      emit(event("fatal").put("error", "no connection to " + args[0] + " within 30 s"));
      client.close();
      System.exit(3);
    }
    CuratorAgent agent = new CuratorAgent(client);
    emit(event("ready").put("sessionId", agent.sessionId()));
    agent.readCommands();
  }

  // ---- protocol ---------------------------------------------------------------------------

  private static ObjectNode event(String name) {
    ObjectNode node = JSON.createObjectNode();
    node.put("event", name);
    return node;
  }

  private static synchronized void emit(ObjectNode node) {
    try {
      protocol.println(JSON.writeValueAsString(node));
      protocol.flush();
    } catch (Exception e) {
      System.err.println("cannot write event: " + e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  private String sessionId() throws Exception {
    return Long.toHexString(client.getZookeeperClient().getZooKeeper().getSessionId());
  }

  private void readCommands() throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      line = line.trim();
      if (line.isEmpty()) continue;
      String[] head = line.split("\\s+", 3);
      String id = head[0];
      if (head.length < 2) {
        emit(event("error").put("id", id).put("error", "missing command"));
        continue;
      }
      String cmd = head[1];
      String rest = head.length > 2 ? head[2] : "";
      if (cmd.equals("quit")) {
        shutdown();
        emit(event("ack").put("id", id).put("cmd", cmd));
        System.exit(0);
      }
      dispatch(id, cmd, rest);
    }
    // stdin closed: the driver is gone, so leave cleanly.
    shutdown();
    System.exit(0);
  }

  @FunctionalInterface
  private interface Command {
    void run(ObjectNode ack) throws Exception;
  }

  /** A failure reported as an error event with a short type, e.g. "timeout". */
  private static final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    final String type;

    Refusal(String type, String message) {
      super(message);
      this.type = type;
    }
  }

  private void dispatch(String id, String cmd, String rest) {
    String[] a = rest.isEmpty() ? new String[0] : rest.split("\\s+");
    try {
      switch (cmd) {
        case "ping" -> run(id, cmd, null, ack -> {});
        case "session" -> run(id, cmd, null, ack -> ack.put("sessionId", sessionId()));
        case "mutex.acquire" -> {
          String key = key(arg(a, 0), arg(a, 2, DEFAULT_OWNER));
          run(id, cmd, "mutex " + key, ack -> acquire(ack, mutex(key, arg(a, 0)), ms(a, 1)));
        }
        case "mutex.release" -> {
          String key = key(arg(a, 0), arg(a, 1, DEFAULT_OWNER));
          run(id, cmd, "mutex " + key, ack -> mutex(key, arg(a, 0)).release());
        }
        case "multilock.acquire" -> {
          // multilock.acquire <path,path,...> <timeoutMs>: all of the mutexes or none
          String paths = arg(a, 0);
          run(id, cmd, "multilock " + paths, ack -> {
            InterProcessMultiLock lock = multiLocks.computeIfAbsent(
                paths, k -> new InterProcessMultiLock(client, List.of(k.split(","))));
            if (!lock.acquire(ms(a, 1), TimeUnit.MILLISECONDS)) {
              throw new Refusal("timeout", "not acquired within " + ms(a, 1) + " ms");
            }
          });
        }
        case "multilock.release" -> {
          String paths = arg(a, 0);
          run(id, cmd, "multilock " + paths, ack -> multiLocks.get(paths).release());
        }
        case "mutex.revocable" -> {
          // mutex.revocable <path> [owner]: before mutex.acquire; reports revocationRequested
          String owner = arg(a, 1, DEFAULT_OWNER);
          String key = key(arg(a, 0), owner);
          run(id, cmd, "mutex " + key, ack -> mutex(key, arg(a, 0)).makeRevocable(
              lock -> emit(event("revocationRequested").put("path", arg(a, 0)).put("owner", owner))));
        }
        case "revoke" -> run(id, cmd, null, ack -> Revoker.attemptRevoke(client, arg(a, 0)));
        case "atomic.increment" ->
            // atomic.increment <path> <count> [promotedLockPath]
            run(id, cmd, null, ack -> atomicIncrement(ack, arg(a, 0), Integer.parseInt(arg(a, 1)), arg(a, 2, null)));
        case "atomic.get" ->
            run(id, cmd, null, ack -> ack.put("value",
                String.valueOf(new DistributedAtomicLong(client, arg(a, 0), new RetryNTimes(0, 0)).get().postValue())));
        case "sharedcount.get" ->
            run(id, cmd, null, ack -> {
              try (SharedCount count = new SharedCount(client, arg(a, 0), 0)) {
                count.start();
                ack.put("value", count.getCount()).put("version", count.getVersionedValue().getVersion());
              }
            });
        case "sharedcount.set" ->
            run(id, cmd, null, ack -> {
              try (SharedCount count = new SharedCount(client, arg(a, 0), 0)) {
                count.start();
                count.setCount(Integer.parseInt(arg(a, 1)));
              }
            });
        case "participants" ->
            run(id, cmd, null, ack -> putStrings(ack, "participants",
                new InterProcessMutex(client, arg(a, 0)).getParticipantNodes()));
        case "rwlock.read.acquire", "rwlock.write.acquire" -> {
          String key = key(arg(a, 0), arg(a, 2, DEFAULT_OWNER));
          boolean write = cmd.startsWith("rwlock.write");
          run(id, cmd, "rwlock " + key, ack -> acquire(ack, rwMutex(key, arg(a, 0), write), ms(a, 1)));
        }
        case "rwlock.read.release", "rwlock.write.release" -> {
          String key = key(arg(a, 0), arg(a, 1, DEFAULT_OWNER));
          boolean write = cmd.startsWith("rwlock.write");
          run(id, cmd, "rwlock " + key, ack -> rwMutex(key, arg(a, 0), write).release());
        }
        case "rwlock.participants" ->
            run(id, cmd, null, ack -> {
              // Each side of Curator's read-write lock lists only its own nodes.
              InterProcessReadWriteLock lock = new InterProcessReadWriteLock(client, arg(a, 0));
              putStrings(ack, "readers", lock.readLock().getParticipantNodes());
              putStrings(ack, "writers", lock.writeLock().getParticipantNodes());
            });
        case "semaphore.acquire" -> {
          // semaphore.acquire <path> <permits> <timeoutMs> [owner]
          String key = key(arg(a, 0), arg(a, 3, DEFAULT_OWNER));
          run(id, cmd, "semaphore " + key,
              ack -> semaphoreAcquire(ack, key, arg(a, 0), Integer.parseInt(arg(a, 1)), ms(a, 2)));
        }
        case "semaphore.release" -> {
          String key = key(arg(a, 0), arg(a, 1, DEFAULT_OWNER));
          run(id, cmd, "semaphore " + key, ack -> {
            Lease lease = leases.remove(key);
            if (lease == null) throw new Refusal("not-held", "no lease held as " + key);
            lease.close();
          });
        }
        case "localaddress" ->
            // What Curator stores in a node created without data (its factory's default).
            run(id, cmd, null, ack -> ack.put("address",
                new String(CuratorFrameworkFactory.getLocalAddress(), StandardCharsets.UTF_8)));
        // selector.start <path> [id]: a LeaderSelector that leads until selector.close; without
        // an id, its node carries the client's default data. Reports isLeader.
        case "selector.start" -> run(id, cmd, null, ack -> selectorStart(arg(a, 0), arg(a, 1, null)));
        case "selector.close" ->
            run(id, cmd, null, ack -> {
              LeaderSelector selector = selectors.remove(key(arg(a, 0), arg(a, 1, "")));
              if (selector == null) throw new Refusal("notStarted", "no selector on " + arg(a, 0));
              selector.close();
            });
        case "latch.start" -> run(id, cmd, null, ack -> latchStart(ack, arg(a, 0), arg(a, 1)));
        case "latch.close" -> run(id, cmd, null, ack -> latchClose(ack, arg(a, 0), arg(a, 1, null)));
        case "latch.participants" -> run(id, cmd, null, ack -> latchParticipants(ack, arg(a, 0)));
        case "barrier.enter", "barrier.leave" -> {
          String key = key(arg(a, 0), arg(a, 3, DEFAULT_OWNER));
          int members = Integer.parseInt(arg(a, 1));
          long timeout = a.length > 2 ? Long.parseLong(a[2]) : 60_000;
          boolean enter = cmd.equals("barrier.enter");
          run(id, cmd, "barrier " + key, ack -> {
            DistributedDoubleBarrier barrier =
                doubleBarriers.computeIfAbsent(
                    key, k -> new DistributedDoubleBarrier(client, arg(a, 0), members));
            boolean done =
                enter
                    ? barrier.enter(timeout, TimeUnit.MILLISECONDS)
                    : barrier.leave(timeout, TimeUnit.MILLISECONDS);
            if (!done) throw new Refusal("timeout", cmd + " did not complete within " + timeout + " ms");
          });
        }
        case "barrier.set" -> run(id, cmd, null, ack -> new DistributedBarrier(client, arg(a, 0)).setBarrier());
        case "barrier.remove" ->
            run(id, cmd, null, ack -> new DistributedBarrier(client, arg(a, 0)).removeBarrier());
        case "barrier.wait" ->
            run(id, cmd, null, ack -> {
              if (!new DistributedBarrier(client, arg(a, 0)).waitOnBarrier(ms(a, 1), TimeUnit.MILLISECONDS)) {
                throw new Refusal("timeout", "barrier still up after " + ms(a, 1) + " ms");
              }
            });
        case "queue.put" -> {
          String[] p = rest.split("\\s+", 2);
          run(id, cmd, null, ack -> producer(arg(p, 0)).put(arg(p, 1).getBytes(StandardCharsets.UTF_8)));
        }
        case "queue.consume" -> run(id, cmd, null, ack -> consume(arg(a, 0), arg(a, 1, null), "plain"));
        case "pqueue.put" -> {
          String[] p = rest.split("\\s+", 3);
          run(id, cmd, null, ack -> priorityProducer(arg(p, 0))
              .put(arg(p, 2).getBytes(StandardCharsets.UTF_8), Integer.parseInt(arg(p, 1))));
        }
        case "pqueue.consume" -> run(id, cmd, null, ack -> consume(arg(a, 0), null, "priority"));
        case "dqueue.put" -> {
          String[] p = rest.split("\\s+", 3);
          run(id, cmd, null, ack -> delayProducer(arg(p, 0))
              .put(arg(p, 2).getBytes(StandardCharsets.UTF_8), Long.parseLong(arg(p, 1))));
        }
        case "dqueue.consume" -> run(id, cmd, null, ack -> consume(arg(a, 0), null, "delay"));
        case "idqueue.put" -> {
          String[] p = rest.split("\\s+", 3);
          run(id, cmd, null, ack -> idProducer(arg(p, 0))
              .put(arg(p, 2).getBytes(StandardCharsets.UTF_8), arg(p, 1)));
        }
        case "idqueue.remove" ->
            run(id, cmd, null, ack -> ack.put("removed", idProducer(arg(a, 0)).remove(arg(a, 1))));
        case "idqueue.consume" -> run(id, cmd, null, ack -> consume(arg(a, 0), null, "id"));
        case "queue.stop", "pqueue.stop", "dqueue.stop", "idqueue.stop" ->
            run(id, cmd, null, ack -> {
              AutoCloseable consumer = consumers.remove(arg(a, 0));
              if (consumer != null) consumer.close();
            });
        case "discovery.register" ->
            run(id, cmd, null, ack -> discovery(arg(a, 0)).registerService(
                instance(arg(a, 1), arg(a, 2), arg(a, 3), Integer.parseInt(arg(a, 4)))));
        case "discovery.unregister" ->
            run(id, cmd, null, ack -> {
              ServiceInstance<Void> found = discovery(arg(a, 0)).queryForInstance(arg(a, 1), arg(a, 2));
              if (found == null) throw new Refusal("noInstance", "no instance " + arg(a, 2));
              discovery(arg(a, 0)).unregisterService(found);
            });
        case "discovery.query" ->
            run(id, cmd, null, ack -> {
              ArrayNode list = ack.putArray("instances");
              for (ServiceInstance<Void> i : discovery(arg(a, 0)).queryForInstances(arg(a, 1))) {
                list.add(JSON.valueToTree(i));
              }
            });
        case "discovery.watch" -> run(id, cmd, null, ack -> watchService(ack, arg(a, 0), arg(a, 1)));
        // GroupMember: group.start <membershipPath> <id> <payload>, group.members <path> <id>
        // (id → payload as seen by that member), group.set <path> <id> <payload>, group.close <path> <id>.
        case "group.start" ->
            run(id, cmd, null, ack -> {
              GroupMember member =
                  new GroupMember(client, arg(a, 0), arg(a, 1), arg(a, 2).getBytes(StandardCharsets.UTF_8));
              groupMembers.put(key(arg(a, 0), arg(a, 1)), member);
              member.start();
            });
        case "group.members" ->
            run(id, cmd, null, ack -> {
              GroupMember member = groupMembers.get(key(arg(a, 0), arg(a, 1)));
              if (member == null) throw new Refusal("noMember", "no member " + arg(a, 1));
              ObjectNode members = ack.putObject("members");
              for (Map.Entry<String, byte[]> e : member.getCurrentMembers().entrySet()) {
                members.put(e.getKey(), new String(e.getValue(), StandardCharsets.UTF_8));
              }
            });
        case "group.set" ->
            run(id, cmd, null, ack -> {
              GroupMember member = groupMembers.get(key(arg(a, 0), arg(a, 1)));
              if (member == null) throw new Refusal("noMember", "no member " + arg(a, 1));
              member.setThisData(arg(a, 2).getBytes(StandardCharsets.UTF_8));
            });
        case "group.close" ->
            run(id, cmd, null, ack -> {
              GroupMember member = groupMembers.remove(key(arg(a, 0), arg(a, 1)));
              if (member != null) member.close();
            });
        case "tree.write" ->
            run(id, cmd, null, ack -> client.create().orSetData().creatingParentsIfNeeded()
                .forPath(arg(a, 0), arg(a, 1, "").getBytes(StandardCharsets.UTF_8)));
        case "tree.delete" ->
            run(id, cmd, null, ack -> client.delete().deletingChildrenIfNeeded().forPath(arg(a, 0)));
        case "treecache.start" ->
            run(id, cmd, null, ack -> {
              CuratorCache cache = CuratorCache.build(client, arg(a, 0));
              java.util.concurrent.CountDownLatch loaded = new java.util.concurrent.CountDownLatch(1);
              cache.listenable().addListener(
                  org.apache.curator.framework.recipes.cache.CuratorCacheListener.builder()
                      .forInitialized(loaded::countDown).build());
              treeCaches.put(arg(a, 0), cache);
              cache.start();
              if (!loaded.await(30, TimeUnit.SECONDS)) throw new Refusal("timeout", "not loaded");
            });
        case "treecache.dump" ->
            run(id, cmd, null, ack -> {
              ObjectNode nodes = ack.putObject("nodes");
              treeCaches.get(arg(a, 0)).stream()
                  .sorted((x, y) -> x.getPath().compareTo(y.getPath()))
                  .forEach((ChildData d) -> nodes.put(d.getPath(),
                      d.getData() == null ? "" : new String(d.getData(), StandardCharsets.UTF_8)));
            });
        case "children" ->
            run(id, cmd, null, ack -> {
              List<String> children = new ArrayList<>(client.getChildren().forPath(arg(a, 0)));
              children.sort(null);
              putStrings(ack, "children", children);
            });
        case "get" ->
            run(id, cmd, null, ack -> {
              Stat stat = new Stat();
              byte[] data = client.getData().storingStatIn(stat).forPath(arg(a, 0));
              ack.put("data", data == null ? null : new String(data, StandardCharsets.UTF_8));
              ack.put("ephemeralOwner", Long.toHexString(stat.getEphemeralOwner()));
              ack.put("czxid", stat.getCzxid());
            });
        case "txn.claim" ->
            run(id, cmd, null, ack -> txnClaim(ack, arg(a, 0), Integer.parseInt(arg(a, 1)), arg(a, 2)));
        default -> emit(event("error").put("id", id).put("cmd", cmd).put("error", "unknown command " + cmd));
      }
    } catch (RuntimeException e) {
      emit(error(id, cmd, e));
    }
  }

  /**
   * One Curator transaction: check that {@code path} is at {@code version}, create {@code claim},
   * and write "curator" to {@code path} at that version. Acks with {@code committed} and, when
   * the server refused it, the failing operation's error code.
   */
  private void txnClaim(ObjectNode ack, String path, int version, String claim) throws Exception {
    byte[] data = "curator".getBytes(StandardCharsets.UTF_8);
    try {
      client
          .transaction()
          .forOperations(
              client.transactionOp().check().withVersion(version).forPath(path),
              client.transactionOp().create().forPath(claim, data),
              client.transactionOp().setData().withVersion(version).forPath(path, data));
      ack.put("committed", true);
    } catch (org.apache.zookeeper.KeeperException e) {
      ack.put("committed", false);
      ack.put("code", e.code().name());
    }
  }

  /** Runs a command on its lane (a dedicated thread) or on the shared pool, then acks. */
  private void run(String id, String cmd, String lane, Command command) {
    ExecutorService executor =
        lane == null ? shared : lanes.computeIfAbsent(lane, k -> Executors.newSingleThreadExecutor(daemon(k)));
    executor.execute(
        () -> {
          ObjectNode ack = event("ack").put("id", id).put("cmd", cmd);
          try {
            command.run(ack);
            emit(ack);
          } catch (Throwable e) {
            emit(error(id, cmd, e));
          }
        });
  }

  private static ObjectNode error(String id, String cmd, Throwable e) {
    ObjectNode node = event("error").put("id", id).put("cmd", cmd);
    if (e instanceof Refusal r) {
      node.put("type", r.type);
    } else {
      node.put("type", e.getClass().getSimpleName());
    }
    node.put("error", String.valueOf(e.getMessage()));
    return node;
  }

  private static String arg(String[] a, int i) {
    if (i >= a.length) throw new IllegalArgumentException("missing argument " + (i + 1));
    return a[i];
  }

  private static String arg(String[] a, int i, String fallback) {
    return i < a.length ? a[i] : fallback;
  }

  private static long ms(String[] a, int i) {
    return Long.parseLong(arg(a, i));
  }

  private static String key(String path, String owner) {
    return path + "#" + owner;
  }

  private static void putStrings(ObjectNode node, String field, Collection<String> values) {
    ArrayNode list = node.putArray(field);
    for (String v : values) list.add(v);
  }

  // ---- locks ------------------------------------------------------------------------------

  private InterProcessMutex mutex(String key, String path) {
    return mutexes.computeIfAbsent(key, k -> new InterProcessMutex(client, path));
  }

  private InterProcessMutex rwMutex(String key, String path, boolean write) {
    InterProcessReadWriteLock lock =
        rwlocks.computeIfAbsent(key, k -> new InterProcessReadWriteLock(client, path));
    return write ? lock.writeLock() : lock.readLock();
  }

  private static void acquire(ObjectNode ack, InterProcessMutex mutex, long timeoutMs)
      throws Exception {
    if (!mutex.acquire(timeoutMs, TimeUnit.MILLISECONDS)) {
      throw new Refusal("timeout", "not acquired within " + timeoutMs + " ms");
    }
    ack.put("node", lockPath(mutex));
  }

  private void semaphoreAcquire(ObjectNode ack, String key, String path, int permits, long timeoutMs)
      throws Exception {
    if (leases.containsKey(key)) throw new Refusal("held", "a lease is already held as " + key);
    Lease lease = new InterProcessSemaphoreV2(client, path, permits)
        .acquire(timeoutMs, TimeUnit.MILLISECONDS);
    if (lease == null) throw new Refusal("timeout", "no lease within " + timeoutMs + " ms");
    leases.put(key, lease);
    ack.put("node", lease.getNodeName());
  }

  /** Increments a DistributedAtomicLong `count` times and reports how many succeeded. */
  private void atomicIncrement(ObjectNode ack, String path, int count, String promotedLockPath)
      throws Exception {
    DistributedAtomicLong counter =
        promotedLockPath == null
            ? new DistributedAtomicLong(client, path, new RetryNTimes(1000, 1))
            : new DistributedAtomicLong(
                client,
                path,
                new RetryNTimes(3, 1),
                PromotedToLock.builder()
                    .lockPath(promotedLockPath)
                    .retryPolicy(new RetryNTimes(1000, 1))
                    .build());
    int succeeded = 0;
    int failed = 0;
    for (int i = 0; i < count; i++) {
      AtomicValue<Long> value = counter.increment();
      if (value.succeeded()) succeeded++;
      else failed++;
    }
    ack.put("succeeded", succeeded).put("failed", failed);
  }

  /** The calling thread's lock node; Curator keeps it behind a protected accessor. */
  private static String lockPath(InterProcessMutex mutex) {
    try {
      Method m = InterProcessMutex.class.getDeclaredMethod("getLockPath");
      m.setAccessible(true);
      return (String) m.invoke(mutex);
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }

  // ---- leader selector --------------------------------------------------------------------

  private void selectorStart(String path, String participantId) throws Exception {
    String key = key(path, participantId == null ? "" : participantId);
    if (selectors.containsKey(key)) throw new Refusal("started", "selector " + key + " already started");
    LeaderSelector selector =
        new LeaderSelector(
            client,
            path,
            new LeaderSelectorListenerAdapter() {
              @Override
              public void takeLeadership(CuratorFramework c) throws Exception {
                emit(event("isLeader").put("path", path).put("participant", participantId));
                // Leads until the selector is closed, which interrupts this thread.
                new CountDownLatch(1).await();
              }
            });
    if (participantId != null) selector.setId(participantId);
    selectors.put(key, selector);
    selector.start();
  }

  // ---- leader latch -----------------------------------------------------------------------

  private void latchStart(ObjectNode ack, String path, String participantId) throws Exception {
    String key = key(path, participantId);
    if (latches.containsKey(key)) throw new Refusal("started", "latch " + key + " already started");
    LeaderLatch latch = new LeaderLatch(client, path, participantId);
    latch.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            emit(event("isLeader").put("path", path).put("participant", participantId));
          }

          @Override
          public void notLeader() {
            emit(event("notLeader").put("path", path).put("participant", participantId));
          }
        });
    latches.put(key, latch);
    latch.start();
  }

  private void latchClose(ObjectNode ack, String path, String participantId) throws Exception {
    int closed = 0;
    Iterator<Map.Entry<String, LeaderLatch>> it = latches.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, LeaderLatch> e = it.next();
      boolean match =
          participantId == null ? e.getKey().startsWith(path + "#") : e.getKey().equals(key(path, participantId));
      if (match) {
        it.remove();
        e.getValue().close();
        closed++;
      }
    }
    if (closed == 0) throw new Refusal("notStarted", "no latch on " + path);
    ack.put("closed", closed);
  }

  private void latchParticipants(ObjectNode ack, String path) throws Exception {
    LeaderLatch latch = new LeaderLatch(client, path);
    ArrayNode list = ack.putArray("participants");
    for (Participant p : latch.getParticipants()) {
      list.addObject().put("id", p.getId()).put("leader", p.isLeader());
    }
  }

  // ---- queues -----------------------------------------------------------------------------

  private static final QueueSerializer<byte[]> BYTES =
      new QueueSerializer<>() {
        @Override
        public byte[] serialize(byte[] item) {
          return item;
        }

        @Override
        public byte[] deserialize(byte[] bytes) {
          return bytes;
        }
      };

  private DistributedQueue<byte[]> producer(String path) throws Exception {
    DistributedQueue<byte[]> queue = producers.get(path);
    if (queue == null) {
      queue = QueueBuilder.builder(client, null, BYTES, path).putInBackground(false).buildQueue();
      queue.start();
      producers.put(path, queue);
    }
    return queue;
  }

  private DistributedPriorityQueue<byte[]> priorityProducer(String path) throws Exception {
    DistributedPriorityQueue<byte[]> queue = priorityProducers.get(path);
    if (queue == null) {
      queue =
          QueueBuilder.builder(client, null, BYTES, path).putInBackground(false).buildPriorityQueue(0);
      queue.start();
      priorityProducers.put(path, queue);
    }
    return queue;
  }

  private DistributedDelayQueue<byte[]> delayProducer(String path) throws Exception {
    DistributedDelayQueue<byte[]> queue = delayProducers.get(path);
    if (queue == null) {
      queue = QueueBuilder.builder(client, null, BYTES, path).putInBackground(false).buildDelayQueue();
      queue.start();
      delayProducers.put(path, queue);
    }
    return queue;
  }

  private DistributedIdQueue<byte[]> idProducer(String path) throws Exception {
    DistributedIdQueue<byte[]> queue = idProducers.get(path);
    if (queue == null) {
      queue = QueueBuilder.builder(client, null, BYTES, path).putInBackground(false).buildIdQueue();
      queue.start();
      idProducers.put(path, queue);
    }
    return queue;
  }

  private void consume(String path, String lockPath, String kind) throws Exception {
    if (consumers.containsKey(path)) throw new Refusal("started", "already consuming " + path);
    QueueConsumer<byte[]> consumer =
        new QueueConsumer<>() {
          @Override
          public void consumeMessage(byte[] item) {
            emit(
                event("consumed")
                    .put("path", path)
                    .put("item", new String(item, StandardCharsets.UTF_8))
                    .put("at", System.currentTimeMillis()));
          }

          @Override
          public void stateChanged(CuratorFramework c, ConnectionState state) {}
        };
    QueueBuilder<byte[]> builder = QueueBuilder.builder(client, consumer, BYTES, path);
    if (lockPath != null) builder = builder.lockPath(lockPath);
    switch (kind) {
      case "priority" -> {
        DistributedPriorityQueue<byte[]> queue = builder.buildPriorityQueue(0);
        queue.start();
        consumers.put(path, queue);
      }
      case "delay" -> {
        DistributedDelayQueue<byte[]> queue = builder.buildDelayQueue();
        queue.start();
        consumers.put(path, queue);
      }
      case "id" -> {
        DistributedIdQueue<byte[]> queue = builder.buildIdQueue();
        queue.start();
        consumers.put(path, queue);
      }
      default -> {
        DistributedQueue<byte[]> queue = builder.buildQueue();
        queue.start();
        consumers.put(path, queue);
      }
    }
  }

  // ---- service discovery ------------------------------------------------------------------

  private ServiceDiscovery<Void> discovery(String basePath) throws Exception {
    ServiceDiscovery<Void> discovery = discoveries.get(basePath);
    if (discovery == null) {
      synchronized (discoveries) {
        discovery = discoveries.get(basePath);
        if (discovery == null) {
          discovery = ServiceDiscoveryBuilder.builder(Void.class).client(client).basePath(basePath).build();
          discovery.start();
          discoveries.put(basePath, discovery);
        }
      }
    }
    return discovery;
  }

  private static ServiceInstance<Void> instance(String name, String id, String address, int port)
      throws Exception {
    return ServiceInstance.<Void>builder().name(name).id(id).address(address).port(port).build();
  }

  private void watchService(ObjectNode ack, String basePath, String name) throws Exception {
    String key = key(basePath, name);
    if (caches.containsKey(key)) throw new Refusal("started", "already watching " + key);
    ServiceCache<Void> cache = discovery(basePath).serviceCacheBuilder().name(name).build();
    cache.addListener(
        new ServiceCacheListener() {
          @Override
          public void cacheChanged() {
            ObjectNode e = event("discovery.changed").put("base", basePath).put("name", name);
            ArrayNode ids = e.putArray("ids");
            for (ServiceInstance<Void> i : cache.getInstances()) ids.add(i.getId());
            emit(e);
          }

          @Override
          public void stateChanged(CuratorFramework c, ConnectionState state) {}
        });
    cache.start();
    caches.put(key, cache);
    ArrayNode ids = ack.putArray("ids");
    for (ServiceInstance<Void> i : cache.getInstances()) ids.add(i.getId());
  }

  // ---- shutdown ---------------------------------------------------------------------------

  private void shutdown() {
    List<AutoCloseable> all = new ArrayList<>();
    all.addAll(consumers.values());
    all.addAll(producers.values());
    all.addAll(priorityProducers.values());
    all.addAll(delayProducers.values());
    all.addAll(idProducers.values());
    all.addAll(caches.values());
    all.addAll(treeCaches.values());
    all.addAll(discoveries.values());
    all.addAll(latches.values());
    all.addAll(selectors.values());
    all.addAll(leases.values());
    for (GroupMember m : groupMembers.values()) all.add(m::close);
    for (AutoCloseable c : all) {
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("close: " + e);
      }
    }
    client.close();
  }
}
