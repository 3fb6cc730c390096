package dev.pledge.testkit.sim;

import dev.pledge.core.Gid;
import dev.pledge.core.Outcome;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The coordinator under simulation: the real engine and a small runtime around it. Its only durable
 * state is the log; a crash wipes everything else (scheduled ticks, calls in flight) and a restart
 * recovers from the log alone. Each step persists, then acts (unless a planted bug says otherwise),
 * and may be cut short by a crash before the write, after it, or between two effects.
 */
final class SimCoordinator {
  static final Instant EPOCH = Instant.parse("2030-01-01T00:00:00Z");
  static final long POLL_MILLIS = 500;
  static final long MAX_RESTART_MILLIS = 600;
  static final long MAX_BACKWARD_JUMP_MILLIS = 1_000;
  static final int MAX_WRITES_KEPT = 10_000;

  private final World world;
  private final Engine engine;
  private final InMemoryTransactionLog log = new InMemoryTransactionLog();
  private final Network network;
  private final boolean actBeforePersist;
  private final int maxCrashes;
  private final Set<Transition> fired = new LinkedHashSet<>();
  private final List<String> violations;

  /** When each transaction first became settled, in simulated milliseconds. */
  private final Map<Gid, Long> settledAt = new TreeMap<>();

  private final Set<String> answered = new HashSet<>();
  private final List<Transaction> written = new ArrayList<>();
  private boolean alive = true;
  private int incarnation;
  private int crashes;
  private long skewMillis;
  private long decisions;

  /** Where the coordinator's effects go: the simulated participants, producers and subscribers. */
  interface Network {
    void call(Effect.CallOp call, Consumer<Outcome> reply);

    void checkBack(Effect.CheckBack check, Consumer<Outcome> reply);

    void deliver(Effect.Deliver delivery, Consumer<Outcome> reply);

    Map<String, List<String>> subscriptions();
  }

  SimCoordinator(
      World world,
      Engine engine,
      Network network,
      boolean actBeforePersist,
      int maxCrashes,
      List<String> violations) {
    this.world = world;
    this.engine = engine;
    this.network = network;
    this.actBeforePersist = actBeforePersist;
    this.maxCrashes = maxCrashes;
    this.violations = violations;
  }

  Instant clock() {
    return EPOCH.plusMillis(world.now() + skewMillis);
  }

  boolean alive() {
    return alive;
  }

  TransactionLog log() {
    return log;
  }

  List<Transaction> transactions() {
    return log.all();
  }

  Map<Gid, Long> settledAt() {
    return settledAt;
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

  void startPolling() {
    world.at(POLL_MILLIS, "poll", this::poll);
  }

  private void poll() {
    if (alive) {
      if (world.fault(world.faults().clockJump())) {
        long jump =
            world.chance(0.7)
                ? 1 + world.random.nextInt(3_000)
                : -(1 + world.random.nextInt((int) MAX_BACKWARD_JUMP_MILLIS));
        skewMillis = Math.max(-MAX_BACKWARD_JUMP_MILLIS, skewMillis + jump);
        world.trace(
            "clock   coordinator clock jumps " + jump + " ms (skew now " + skewMillis + " ms)");
      }
      for (Transaction tx : log.due(clock(), 1_000)) {
        apply(tx.gid(), new Event.Tick());
      }
    }
    world.at(POLL_MILLIS, "poll", this::poll);
  }

  /**
   * An API request from a client (create, register, commit, abort). The answer reaches {@code
   * reply} only if the coordinator is up; null means accepted, otherwise the rejection.
   */
  void create(TransactionSpec spec, Consumer<String> reply) {
    if (!alive) {
      return;
    }
    Transaction existing = log.load(spec.gid()).orElse(null);
    if (existing != null) {
      reply.accept(existing.mode() == spec.mode() ? null : "gid taken by another transaction");
      return;
    }
    Decision decision = engine.start(spec, clock());
    decisions++;
    fired.addAll(decision.fired());
    if (persistThenAct(null, decision)) {
      reply.accept(null);
    }
  }

  void request(Gid gid, Event event, Consumer<String> reply) {
    if (!alive) {
      return;
    }
    String rejection = apply(gid, event);
    if (alive) {
      reply.accept(rejection);
    }
  }

  /** Decides one event and carries the decision out. Returns the rejection, if any. */
  private String apply(Gid gid, Event event) {
    Transaction state = log.load(gid).orElse(null);
    if (state == null) {
      return "no such transaction";
    }
    Decision decision = engine.decide(state, event, clock());
    decisions++;
    fired.addAll(decision.fired());
    if (decision.isRejected()) {
      return decision.rejection();
    }
    if (decision.changes(state)) {
      persistThenAct(state, decision);
    } else {
      // Nothing new to persist (a recovery re-sending what the log already says): act at once.
      act(decision);
    }
    return null;
  }

  /** Returns false if the coordinator crashed on the way. */
  private boolean persistThenAct(Transaction previous, Decision decision) {
    if (actBeforePersist) {
      if (!act(decision)) {
        return false;
      }
      if (crashPoint("after acting, before the log write")) {
        return false;
      }
      write(previous, decision.next());
      return true;
    }
    if (crashPoint("before the log write")) {
      return false;
    }
    write(previous, decision.next());
    if (crashPoint("after the log write, before acting")) {
      return false;
    }
    return act(decision);
  }

  private void write(Transaction previous, Transaction next) {
    if (previous == null) {
      log.create(next);
    } else {
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
      log.update(next);
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
    scheduleWake(next);
  }

  private void scheduleWake(Transaction tx) {
    Instant wake = tx.wakeAt();
    if (wake == null) {
      return;
    }
    int scheduledBy = incarnation;
    long delay = wake.toEpochMilli() - clock().toEpochMilli();
    world.at(
        delay,
        "wake " + tx.gid(),
        () -> {
          if (alive && incarnation == scheduledBy) {
            log.load(tx.gid())
                .filter(t -> t.wakeAt() != null && !t.wakeAt().isAfter(clock()))
                .ifPresent(t -> apply(t.gid(), new Event.Tick()));
          }
        });
  }

  private boolean crashPoint(String where) {
    if (crashes < maxCrashes && world.fault(world.faults().crash())) {
      crashes++;
      alive = false;
      incarnation++;
      long restartAfter = 1L + world.random.nextInt((int) MAX_RESTART_MILLIS);
      world.trace("CRASH   coordinator killed " + where + "; restarts in " + restartAfter + " ms");
      world.at(restartAfter, "restart", this::restart);
      return true;
    }
    return false;
  }

  private void restart() {
    alive = true;
    world.trace("restart coordinator recovers from its log");
    Gid after = null;
    while (alive) {
      List<Transaction> page = log.unsettled(after, 100);
      if (page.isEmpty()) {
        return;
      }
      for (Transaction tx : page) {
        if (!alive) {
          return;
        }
        apply(tx.gid(), new Event.Recovered());
      }
      after = page.get(page.size() - 1).gid();
    }
  }

  /** Runs the effects in order; returns false if the coordinator crashed between two of them. */
  private boolean act(Decision decision) {
    List<Effect> effects = decision.effects();
    for (int i = 0; i < effects.size(); i++) {
      if (i > 0 && crashPoint("between two effects")) {
        return false;
      }
      execute(effects.get(i));
    }
    return true;
  }

  private void execute(Effect effect) {
    int by = incarnation;
    switch (effect) {
      case Effect.CallOp call -> {
        String key =
            call.gid() + "/" + call.branchId() + "/" + call.op().label() + "#" + call.attempt();
        network.call(
            call,
            outcome ->
                answer(
                    by,
                    key,
                    call.gid(),
                    new Event.OpCompleted(call.branchId(), call.op(), call.attempt(), outcome)));
        runtimeTimeout(
            by,
            key,
            call.gid(),
            new Event.OpCompleted(
                call.branchId(), call.op(), call.attempt(), new Outcome.Unknown("timeout")));
      }
      case Effect.CheckBack check -> {
        String key = check.gid() + "/check#" + check.attempt();
        network.checkBack(
            check,
            outcome ->
                answer(by, key, check.gid(), new Event.CheckCompleted(check.attempt(), outcome)));
        runtimeTimeout(
            by,
            key,
            check.gid(),
            new Event.CheckCompleted(check.attempt(), new Outcome.Unknown("timeout")));
      }
      case Effect.Deliver delivery -> {
        String key =
            delivery.gid()
                + "/"
                + delivery.messageId()
                + "->"
                + delivery.subscription()
                + "#"
                + delivery.attempt();
        network.deliver(
            delivery,
            outcome ->
                answer(
                    by,
                    key,
                    delivery.gid(),
                    new Event.DeliveryCompleted(
                        delivery.messageId(),
                        delivery.subscription(),
                        delivery.attempt(),
                        outcome)));
        runtimeTimeout(
            by,
            key,
            delivery.gid(),
            new Event.DeliveryCompleted(
                delivery.messageId(),
                delivery.subscription(),
                delivery.attempt(),
                new Outcome.Unknown("timeout")));
      }
      case Effect.ResolveSubscribers resolve -> {
        Map<String, List<String>> all = network.subscriptions();
        Map<String, List<String>> relevant = new TreeMap<>();
        for (String topic : resolve.topics()) {
          relevant.put(topic, all.getOrDefault(topic, List.of()));
        }
        world.at(
            0,
            "resolve " + resolve.gid(),
            () -> {
              if (alive && incarnation == by) {
                apply(resolve.gid(), new Event.SubscribersResolved(relevant));
              }
            });
      }
    }
  }

  /**
   * An answer reaches the coordinator: only if it is up. A restarted coordinator still takes it.
   */
  private void answer(int sentBy, String key, Gid gid, Event event) {
    if (!alive) {
      return;
    }
    if (incarnation == sentBy) {
      answered.add(key);
    }
    apply(gid, event);
  }

  /**
   * The runtime's HTTP client gives up on a call a little before the decider's own answer deadline.
   */
  private void runtimeTimeout(int sentBy, String key, Gid gid, Event unknown) {
    long after = engine.policy().callTimeout().toMillis() * 4 / 5;
    world.at(
        after,
        "timeout " + key,
        () -> {
          if (alive && incarnation == sentBy && !answered.contains(key)) {
            answered.add(key);
            apply(gid, unknown);
          }
        });
  }

  static String list(List<String> items) {
    return String.join(", ", new ArrayList<>(items));
  }
}
