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

/**
 * The simulated machine the coordinator runs on: the production runtime ({@link Coordinator}) with
 * a simulated clock (that jumps), scheduler (events of the {@link World}), network (the run's
 * participants, producer and subscribers, through {@link World#send}) and the in-memory log. The
 * log is the only thing that survives a crash: a crash point throws {@link SimulatedCrash} through
 * the runtime, every task and answer of that incarnation is dropped, and a new runtime recovers
 * from the log alone (with a new log handle, so a newer epoch, as a restarted server has).
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
  private final InstantSource clock;
  private final Set<Transition> fired = new LinkedHashSet<>();
  private final Map<Gid, Long> settledAt = new TreeMap<>();

  /** Every delivery ({@code messageId->subscription}) that was ever written dead. */
  private final Set<String> everDead = new TreeSet<>();

  private final List<Transaction> written = new ArrayList<>();
  private Coordinator coordinator;
  private boolean alive;
  private int incarnation;
  private int crashes;
  private long skewMillis;
  private long decisions;

  SimHost(
      World world,
      Engine engine,
      Network network,
      Set<PlantedBug> bugs,
      int maxCrashes,
      List<String> violations) {
    this.world = world;
    this.engine = engine;
    this.network = network;
    this.maxCrashes = maxCrashes;
    this.violations = violations;
    this.storage = new InMemoryTransactionLog(() -> EPOCH.plusMillis(world.now()));
    this.clock = () -> EPOCH.plusMillis(world.now() + skewMillis);
    this.config =
        new RuntimeConfig(
            Duration.ofMillis(POLL_MILLIS),
            Duration.ofMillis(CLAIM_LEASE_MILLIS),
            1_000,
            Duration.ofDays(1),
            engine.policy().callTimeout().multipliedBy(4).dividedBy(5),
            1_000_000,
            1_000,
            bugs);
  }

  Instant clock() {
    return clock.instant();
  }

  boolean alive() {
    return alive;
  }

  TransactionLog log() {
    return storage;
  }

  List<Transaction> transactions() {
    return storage.all();
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

  /** Boots the first coordinator and starts the clock's jumps. */
  void boot() {
    start();
    world.at(POLL_MILLIS, null, this::jumpClock);
  }

  private void jumpClock() {
    if (world.fault(world.faults().clockJump())) {
      long jump =
          world.chance(0.7)
              ? 1 + world.random.nextInt(3_000)
              : -(1 + world.random.nextInt((int) MAX_BACKWARD_JUMP_MILLIS));
      skewMillis = Math.max(-MAX_BACKWARD_JUMP_MILLIS, skewMillis + jump);
      world.trace(
          "clock   coordinator clock jumps " + jump + " ms (skew now " + skewMillis + " ms)");
    }
    world.at(POLL_MILLIS, null, this::jumpClock);
  }

  private void start() {
    alive = true;
    int by = incarnation;
    coordinator =
        new Coordinator(
            config,
            engine,
            new CrashingLog(storage.newHandle()),
            clock,
            new SimScheduler(by),
            new SimTransport(),
            new Directory(),
            new Bookkeeping());
    try {
      coordinator.start();
    } catch (SimulatedCrash crash) {
      // Killed while recovering; the restart is scheduled.
    }
  }

  // --- requests from clients --------------------------------------------------------------------

  /**
   * A client's create. The answer reaches {@code reply} only if the coordinator is up and did not
   * crash on the way: null means accepted, otherwise the rejection.
   */
  void create(TransactionSpec spec, Consumer<String> reply) {
    if (!alive) {
      return;
    }
    String answer;
    try {
      answer = describe(coordinator.begin(spec));
    } catch (SimulatedCrash crash) {
      return;
    } catch (InvalidSpecException e) {
      answer = e.getMessage();
    }
    reply.accept(answer);
  }

  /** A client's or operator's request; as {@link #create}. */
  void request(Gid gid, Event event, Consumer<String> reply) {
    if (!alive) {
      return;
    }
    String answer;
    try {
      answer = describe(coordinator.request(gid, event));
    } catch (SimulatedCrash crash) {
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

  // --- crashes ----------------------------------------------------------------------------------

  private void crashPoint(String where) {
    if (alive && crashes < maxCrashes && world.fault(world.faults().crash())) {
      crashes++;
      alive = false;
      incarnation++;
      long restartAfter = 1L + world.random.nextInt((int) MAX_RESTART_MILLIS);
      world.trace("CRASH   coordinator killed " + where + "; restarts in " + restartAfter + " ms");
      world.at(
          restartAfter,
          "restart",
          () -> {
            world.trace("restart coordinator recovers from its log");
            start();
          });
      throw new SimulatedCrash(where);
    }
  }

  /** Runs {@code task} only while the incarnation that scheduled it lives. */
  private Runnable guarded(int by, Runnable task) {
    return () -> {
      if (alive && incarnation == by) {
        try {
          task.run();
        } catch (SimulatedCrash crash) {
          // The incarnation is dead; its restart is scheduled.
        }
      }
    };
  }

  /** Tasks become world events, dropped once their incarnation died. */
  private final class SimScheduler implements Scheduler {
    private final int by;

    SimScheduler(int by) {
      this.by = by;
    }

    @Override
    public void execute(Runnable task) {
      world.at(0, null, guarded(by, task));
    }

    @Override
    public void schedule(Duration delay, Runnable task) {
      world.at(delay.toMillis(), null, guarded(by, task));
    }
  }

  /** The runtime's transport: the run's network, with a crash point before each send. */
  private final class SimTransport implements Transport {
    @Override
    public CompletableFuture<Outcome> call(Effect.CallOp call) {
      crashPoint("before sending " + call.op().label() + " of " + call.gid());
      CompletableFuture<Outcome> answer = new CompletableFuture<>();
      network.call(call, answer::complete);
      return answer;
    }

    @Override
    public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
      crashPoint("before sending the check-back of " + check.gid());
      CompletableFuture<Outcome> answer = new CompletableFuture<>();
      network.checkBack(check, answer::complete);
      return answer;
    }

    @Override
    public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
      crashPoint("before delivering " + delivery.messageId());
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
    private final TransactionLog handle;

    CrashingLog(TransactionLog handle) {
      this.handle = handle;
    }

    @Override
    public void create(Transaction first, List<HistoryEntry> history) {
      crashPoint("before the log write");
      handle.create(first, history);
      wrote(null, first);
      crashPoint("after the log write, before acting");
    }

    @Override
    public void update(Transaction next, List<HistoryEntry> history) {
      crashPoint("before the log write");
      Transaction previous = handle.load(next.gid()).orElse(null);
      handle.update(next, history);
      wrote(previous, next);
      crashPoint("after the log write, before acting");
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
      if (previous == null || previous.status() != next.status()) {
        world.trace(
            "coord   "
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
