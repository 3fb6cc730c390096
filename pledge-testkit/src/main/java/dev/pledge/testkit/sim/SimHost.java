package dev.pledge.testkit.sim;

import dev.pledge.core.Delivery;
import dev.pledge.core.Gid;
import dev.pledge.core.InvalidSpecException;
import dev.pledge.core.Message;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.runtime.PlantedBug;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.core.runtime.RuntimeListener;
import dev.pledge.core.runtime.Scheduler;
import dev.pledge.core.runtime.SubscriptionDirectory;
import dev.pledge.core.runtime.Transport;
import dev.pledge.core.spi.LeaseHeldException;
import dev.pledge.core.spi.LogUnavailableException;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The simulated machines the coordinators run on: one or more copies of the production runtime
 * ({@link Coordinator}) sharing one in-memory log, each with a simulated clock of its own (that
 * jumps), a scheduler (events of the {@link World}), and the network (the run's participants,
 * producer and subscribers, through {@link World#send}). The log is the only thing that survives a
 * crash: a crash point throws {@link SimulatedCrash} through the runtime, every task and answer of
 * that incarnation is dropped, and a new runtime recovers from the log alone (with a new log
 * handle, so a newer epoch, as a restarted server has).
 *
 * <p>With two coordinators, as two servers sharing one database: clients reach a live one at
 * random, both poll the log for due work and claim it under leases, and each restart opens a handle
 * of a newer epoch, whose leases fence the other coordinator's writes off the transactions it
 * claimed. Besides crashing, at any crash point a coordinator may stall (a long GC pause, a stopped
 * VM) for up to {@value #MAX_STALL_MILLIS} ms, longer than a lease: its timers and answers wait,
 * the other one claims its due work, and when it wakes up with what it held in memory, its writes
 * are refused by the version check or by the newer lease. So the coordinators crash and fence each
 * other, and the lease and epoch code runs under the whole fault mix. With one coordinator no
 * random choice is drawn for routing or stalls, so a seed's run is the same as before two were
 * possible.
 *
 * <p>Crash points: before a log write, after it (before acting), and before each effect is sent.
 * Every write is checked as it happens: a logged decision never changes direction.
 */
final class SimHost {
  static final Instant EPOCH = Instant.parse("2030-01-01T00:00:00Z");
  static final long POLL_MILLIS = 500;
  static final long CLAIM_LEASE_MILLIS = 1_000;
  static final long MAX_RESTART_MILLIS = 600;
  static final long MAX_BACKWARD_JUMP_MILLIS = 1_000;
  static final int MAX_WRITES_KEPT = 10_000;

  /** A stalled coordinator (two or more only) stands still for at most this long. */
  static final long MAX_STALL_MILLIS = 2 * CLAIM_LEASE_MILLIS + POLL_MILLIS;

  /** Where the coordinator's effects go: the simulated participants, producers and subscribers. */
  interface Network {
    void call(Effect.CallOp call, Consumer<Outcome> reply);

    void checkBack(Effect.CheckBack check, Consumer<Outcome> reply);

    void deliver(Effect.Deliver delivery, Consumer<Outcome> reply);

    Map<String, List<String>> subscriptions();
  }

  private final World world;
  private final Engine engine;
  private final Network network;
  private final RuntimeConfig config;
  private final int maxCrashes;
  private final List<String> violations;
  private final InMemoryTransactionLog storage;
  private final List<Node> nodes = new ArrayList<>();
  private final Set<Transition> fired = new LinkedHashSet<>();
  private final Map<Gid, Long> settledAt = new TreeMap<>();

  /** Every delivery ({@code messageId->subscription}) that was ever written dead. */
  private final Set<String> everDead = new TreeSet<>();

  private final List<Transaction> written = new ArrayList<>();
  private int crashes;
  private long decisions;
  private long fenced;

  SimHost(
      World world,
      Engine engine,
      Network network,
      Set<PlantedBug> bugs,
      int coordinators,
      int maxCrashes,
      List<String> violations) {
    if (coordinators < 1 || coordinators > SimOptions.MAX_COORDINATORS) {
      throw new IllegalArgumentException(
          "coordinators must be in [1, " + SimOptions.MAX_COORDINATORS + "], got " + coordinators);
    }
    this.world = world;
    this.engine = engine;
    this.network = network;
    this.maxCrashes = maxCrashes;
    this.violations = violations;
    this.storage = new InMemoryTransactionLog(() -> EPOCH.plusMillis(world.now()));
    this.config =
        new RuntimeConfig(
            Duration.ofMillis(POLL_MILLIS),
            Duration.ofMillis(CLAIM_LEASE_MILLIS),
            1_000,
            Duration.ofDays(1),
            // Four fifths of the call timeout; Duration's own multipliedBy/dividedBy go through
            // BigDecimal, a visible cost when built once a seed.
            Duration.ofNanos(engine.policy().callTimeout().toNanos() * 4 / 5),
            1_000_000,
            1_000,
            bugs);
    for (int i = 0; i < coordinators; i++) {
      nodes.add(new Node(coordinators == 1 ? "coordinator" : "coordinator " + (i + 1)));
    }
  }

  /** The clock of the first coordinator. */
  Instant clock() {
    return nodes.get(0).clock.instant();
  }

  /** Whether any coordinator is up. */
  boolean alive() {
    for (Node node : nodes) {
      if (node.alive) {
        return true;
      }
    }
    return false;
  }

  TransactionLog log() {
    return storage;
  }

  List<Transaction> transactions() {
    return storage.all();
  }

  /** Whether every transaction in the log passes {@code test} (without a snapshot of them all). */
  boolean allTransactions(Predicate<Transaction> test) {
    return storage.allMatch(test);
  }

  Map<Gid, Long> settledAt() {
    return settledAt;
  }

  Set<String> everDead() {
    return everDead;
  }

  Set<Transition> fired() {
    return fired;
  }

  List<Transaction> written() {
    return List.copyOf(written);
  }

  long decisions() {
    return decisions;
  }

  int crashes() {
    return crashes;
  }

  /** Writes a coordinator made that the log refused because another one's lease fenced it off. */
  long fenced() {
    return fenced;
  }

  int coordinators() {
    return nodes.size();
  }

  /** Boots every coordinator and starts their clocks' jumps. */
  void boot() {
    for (Node node : nodes) {
      node.start();
      world.at(POLL_MILLIS, null, node::jumpClock);
    }
  }

  /**
   * The coordinator a client's request reaches: the only one, or (as a load balancer that checks
   * health) one of the live ones at random; null when none is up, so the request goes unanswered.
   */
  private Node route() {
    if (nodes.size() == 1) {
      Node only = nodes.get(0);
      return only.alive ? only : null;
    }
    List<Node> live = new ArrayList<>(nodes.size());
    for (Node node : nodes) {
      if (node.alive && !node.stalled()) {
        live.add(node);
      }
    }
    return live.isEmpty() ? null : live.get(world.random.nextInt(live.size()));
  }

  /** One coordinator process: its runtime, its clock's skew, and its life and deaths. */
  private final class Node {
    final String name;
    final InstantSource clock;
    Coordinator coordinator;
    boolean alive;
    int incarnation;
    long skewMillis;

    /** While {@code world.now()} is before this, the process stands still. */
    long stalledUntil;

    Node(String name) {
      this.name = name;
      this.clock = () -> EPOCH.plusMillis(world.now() + skewMillis);
    }

    void jumpClock() {
      if (world.fault(world.faults().clockJump())) {
        long jump =
            world.chance(0.7)
                ? 1 + world.random.nextInt(3_000)
                : -(1 + world.random.nextInt((int) MAX_BACKWARD_JUMP_MILLIS));
        skewMillis = Math.max(-MAX_BACKWARD_JUMP_MILLIS, skewMillis + jump);
        world.trace(
            "clock   " + name + " clock jumps " + jump + " ms (skew now " + skewMillis + " ms)");
      }
      world.at(POLL_MILLIS, null, this::jumpClock);
    }

    boolean stalled() {
      return world.now() < stalledUntil;
    }

    void start() {
      alive = true;
      stalledUntil = 0;
      int by = incarnation;
      coordinator =
          new Coordinator(
              config,
              engine,
              new CrashingLog(this, storage.newHandle()),
              clock,
              new SimScheduler(this, by),
              new SimTransport(this),
              new Directory(),
              new Bookkeeping());
      try {
        coordinator.start();
      } catch (SimulatedCrash crash) {
        // Killed while recovering; the restart is scheduled.
      }
    }

    void crashPoint(String where) {
      if (alive && crashes < maxCrashes && world.fault(world.faults().crash())) {
        crashes++;
        alive = false;
        incarnation++;
        long restartAfter = 1L + world.random.nextInt((int) MAX_RESTART_MILLIS);
        world.trace(
            "CRASH   " + name + " killed " + where + "; restarts in " + restartAfter + " ms");
        world.at(
            restartAfter,
            "restart",
            () -> {
              world.trace("restart " + name + " recovers from its log");
              start();
            });
        throw new SimulatedCrash(where);
      }
      if (nodes.size() > 1 && alive && !stalled() && world.fault(world.faults().crash())) {
        long stall = 1L + world.random.nextInt((int) MAX_STALL_MILLIS);
        stalledUntil = world.now() + stall;
        world.trace("STALL   " + name + " stands still " + where + " for " + stall + " ms");
      }
    }

    /**
     * Runs {@code task} only while the incarnation that scheduled it lives; while the process is
     * stalled, the task waits for the stall to end.
     */
    Runnable guarded(int by, Runnable task) {
      return () -> {
        if (alive && incarnation == by) {
          if (stalled()) {
            world.at(stalledUntil - world.now(), null, guarded(by, task));
            return;
          }
          try {
            task.run();
          } catch (SimulatedCrash crash) {
            // The incarnation is dead; its restart is scheduled.
          }
        }
      };
    }
  }

  // --- requests from clients --------------------------------------------------------------------

  /**
   * A client's create. The answer reaches {@code reply} only if a coordinator is up and did not
   * crash on the way: null means accepted, otherwise the rejection. A 503 (the log refused the
   * write, for instance because another coordinator's lease fences this one off the transaction)
   * reaches no {@code reply}: the client tries again after its wait, as the SDK retries a 503.
   */
  void create(TransactionSpec spec, Consumer<String> reply) {
    Node node = route();
    if (node == null) {
      return;
    }
    String answer;
    try {
      answer = describe(node.coordinator.begin(spec));
    } catch (SimulatedCrash crash) {
      return;
    } catch (LogUnavailableException e) {
      world.trace("503     " + node.name + ": " + e.getMessage());
      return;
    } catch (InvalidSpecException e) {
      answer = e.getMessage();
    }
    reply.accept(answer);
  }

  /** A client's or operator's request; as {@link #create}. */
  void request(Gid gid, Event event, Consumer<String> reply) {
    Node node = route();
    if (node == null) {
      return;
    }
    String answer;
    try {
      answer = describe(node.coordinator.request(gid, event));
    } catch (SimulatedCrash crash) {
      return;
    } catch (LogUnavailableException e) {
      world.trace("503     " + node.name + ": " + e.getMessage());
      return;
    }
    reply.accept(answer);
  }

  private static String describe(Coordinator.Answer answer) {
    return switch (answer) {
      case Coordinator.Answer.Accepted accepted -> null;
      case Coordinator.Answer.Rejected rejected -> rejected.reason();
      case Coordinator.Answer.NotFound notFound -> "no such transaction";
    };
  }

  /** Tasks become world events, dropped once their incarnation died. */
  private final class SimScheduler implements Scheduler {
    private final Node node;
    private final int by;

    SimScheduler(Node node, int by) {
      this.node = node;
      this.by = by;
    }

    @Override
    public void execute(Runnable task) {
      world.at(0, null, node.guarded(by, task));
    }

    @Override
    public void schedule(Duration delay, Runnable task) {
      world.at(delay.toMillis(), null, node.guarded(by, task));
    }
  }

  /** The runtime's transport: the run's network, with a crash point before each send. */
  private final class SimTransport implements Transport {
    private final Node node;

    SimTransport(Node node) {
      this.node = node;
    }

    @Override
    public CompletableFuture<Outcome> call(Effect.CallOp call) {
      node.crashPoint("before sending " + call.op().label() + " of " + call.gid());
      CompletableFuture<Outcome> answer = new CompletableFuture<>();
      network.call(call, answer::complete);
      return answer;
    }

    @Override
    public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
      node.crashPoint("before sending the check-back of " + check.gid());
      CompletableFuture<Outcome> answer = new CompletableFuture<>();
      network.checkBack(check, answer::complete);
      return answer;
    }

    @Override
    public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
      node.crashPoint("before delivering " + delivery.messageId());
      CompletableFuture<Outcome> answer = new CompletableFuture<>();
      network.deliver(delivery, answer::complete);
      return answer;
    }
  }

  private final class Directory implements SubscriptionDirectory {
    @Override
    public String target(String subscription) {
      return "sim://" + subscription;
    }

    @Override
    public Map<String, List<String>> byTopic(Set<String> topics) {
      Map<String, List<String>> all = network.subscriptions();
      Map<String, List<String>> relevant = new TreeMap<>();
      for (String topic : topics) {
        relevant.put(topic, all.getOrDefault(topic, List.of()));
      }
      return relevant;
    }
  }

  private final class Bookkeeping implements RuntimeListener {
    @Override
    public void decided(Decision decision) {
      decisions++;
      fired.addAll(decision.fired());
    }
  }

  /**
   * The log as this incarnation sees it: the shared storage through its own handle, with crash
   * points around each write, and every accepted write checked and recorded.
   */
  private final class CrashingLog implements TransactionLog {
    private final Node node;
    private final TransactionLog handle;

    CrashingLog(Node node, TransactionLog handle) {
      this.node = node;
      this.handle = handle;
    }

    @Override
    public void create(Transaction first, List<HistoryEntry> history) {
      node.crashPoint("before the log write");
      handle.create(first, history);
      wrote(null, first);
      node.crashPoint("after the log write, before acting");
    }

    @Override
    public void update(Transaction next, List<HistoryEntry> history) {
      node.crashPoint("before the log write");
      Transaction previous = handle.load(next.gid()).orElse(null);
      try {
        handle.update(next, history);
      } catch (LeaseHeldException e) {
        fenced++;
        world.trace("fenced  " + node.name + ": " + e.getMessage());
        throw e;
      }
      wrote(previous, next);
      node.crashPoint("after the log write, before acting");
    }

    private void wrote(Transaction previous, Transaction next) {
      if (previous != null) {
        Status.Direction before = previous.status().direction();
        if (before != Status.Direction.UNDECIDED && before != next.status().direction()) {
          violations.add(
              "decision changed: "
                  + next.gid()
                  + " went from "
                  + previous.status().label()
                  + " to "
                  + next.status().label());
        }
      }
      if (written.size() < MAX_WRITES_KEPT) {
        written.add(next);
      }
      if (world.tracing() && (previous == null || previous.status() != next.status())) {
        world.trace(
            "coord   "
                + (nodes.size() == 1 ? "" : "(" + node.name + ") ")
                + next.gid()
                + " "
                + (previous == null ? "[new]" : previous.status().label())
                + " -> "
                + next.status().label()
                + " (v"
                + next.version()
                + ")");
      }
      if (next.isSettled() && !settledAt.containsKey(next.gid())) {
        settledAt.put(next.gid(), world.now());
      }
      for (Message message : next.messages()) {
        for (Delivery delivery : message.deliveries()) {
          if (delivery.progress().status() == OpStatus.DEAD) {
            everDead.add(message.messageId() + "->" + delivery.subscription());
          }
        }
      }
    }

    @Override
    public Optional<Transaction> load(Gid gid) {
      return handle.load(gid);
    }

    @Override
    public List<Transaction> due(Instant now, int limit) {
      return handle.due(now, limit);
    }

    @Override
    public List<Transaction> claimDue(Instant now, Duration lease, int limit) {
      return handle.claimDue(now, lease, limit);
    }

    @Override
    public long epoch() {
      return handle.epoch();
    }

    @Override
    public List<Transaction> unsettled(Gid afterGid, int limit) {
      return handle.unsettled(afterGid, limit);
    }

    @Override
    public List<Count> counts() {
      return handle.counts();
    }

    @Override
    public Page page(Query query) {
      return handle.page(query);
    }

    @Override
    public List<HistoryEntry> history(Gid gid) {
      return handle.history(gid);
    }

    @Override
    public List<QueueHead> heads(Collection<QueueKey> queues) {
      return handle.heads(queues);
    }
  }
}
