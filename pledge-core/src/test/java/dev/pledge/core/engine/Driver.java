package dev.pledge.core.engine;

import dev.pledge.core.Branch;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Drives one transaction through the {@link Engine}, the way the runtime would: each accepted
 * decision's next state becomes the state the following event is decided on (as if logged), and
 * time moves only when the test says so. Every decision is checked against the invariants every
 * decider must keep (see {@link #check}), so each scenario also tests those.
 *
 * <p>The rows each decision fired are kept, and also reported to the recorder of {@link
 * #recording}, which is how {@code TransitionCoverageTest} learns which rows its scenarios
 * exercised.
 */
public final class Driver {
  private static final ThreadLocal<Set<Transition>> RECORDER = new ThreadLocal<>();

  private final Engine engine;
  private final List<Transition> fired = new ArrayList<>();
  private Transaction tx;
  private Instant now;
  private Decision last;

  private Driver(Engine engine, Instant now) {
    this.engine = engine;
    this.now = now;
  }

  /** Starts {@code spec} at {@link Specs#T0} on the default engine. */
  public static Driver start(TransactionSpec spec) {
    return start(spec, RetryPolicy.DEFAULT);
  }

  public static Driver start(TransactionSpec spec, RetryPolicy policy) {
    Driver driver = new Driver(new Engine(Limits.DEFAULT, policy), Specs.T0);
    Decision first = driver.engine.start(spec, driver.now);
    driver.check(null, first);
    driver.accept(first);
    return driver;
  }

  /** Runs {@code scenarios}, returning every row that fired in any driver they used. */
  public static Set<Transition> recording(Runnable scenarios) {
    Set<Transition> rows = new LinkedHashSet<>();
    Set<Transition> outer = RECORDER.get();
    RECORDER.set(rows);
    try {
      scenarios.run();
    } finally {
      RECORDER.set(outer);
    }
    return rows;
  }

  // ---- time

  public Instant now() {
    return now;
  }

  /** Moves the clock forward by {@code step}. */
  public Driver advance(Duration step) {
    return at(now.plus(step));
  }

  /** Moves the clock to {@code instant}, which may not be in the past. */
  public Driver at(Instant instant) {
    if (instant.isBefore(now)) {
      throw new IllegalArgumentException(
          "time goes forward only: " + instant + " is before " + now);
    }
    now = instant;
    return this;
  }

  // ---- events

  public Decision on(Event event) {
    Decision decision = engine.decide(tx, event, now);
    check(tx, decision);
    accept(decision);
    return decision;
  }

  public Decision tick() {
    return on(new Event.Tick());
  }

  /** Moves the clock to the transaction's wake-up time and ticks. */
  public Decision tickWhenDue() {
    Instant wake = tx.wakeAt();
    if (wake == null) {
      throw new AssertionError("nothing is scheduled for " + tx.gid());
    }
    at(wake.isAfter(now) ? wake : now);
    return tick();
  }

  /** Answers the latest attempt of {@code op} on {@code branchId}. */
  public Decision answer(String branchId, Op op, Outcome outcome) {
    return answer(branchId, op, progress(branchId, op).attempts(), outcome);
  }

  public Decision answer(String branchId, Op op, int attempt, Outcome outcome) {
    return on(new Event.OpCompleted(branchId, op, attempt, outcome));
  }

  public Decision succeed(String branchId, Op op) {
    return answer(branchId, op, Outcome.SUCCEEDED);
  }

  /** Answers the latest check-back. */
  public Decision checkAnswer(Outcome outcome) {
    return on(new Event.CheckCompleted(tx.check().attempts(), outcome));
  }

  /** Answers the latest attempt of the delivery of {@code messageId} to {@code subscription}. */
  public Decision deliveryAnswer(String messageId, String subscription, Outcome outcome) {
    int attempt = tx.message(messageId).delivery(subscription).progress().attempts();
    return on(new Event.DeliveryCompleted(messageId, subscription, attempt, outcome));
  }

  // ---- state

  public Transaction tx() {
    return tx;
  }

  public Decision last() {
    return last;
  }

  public Status status() {
    return tx.status();
  }

  public Progress progress(String branchId, Op op) {
    Branch branch = tx.branch(branchId);
    if (branch == null) {
      throw new AssertionError(tx.gid() + " has no branch " + branchId);
    }
    return branch.op(op);
  }

  /** The status of {@code op} on every branch, in branch order. */
  public List<OpStatus> statuses(Op op) {
    List<OpStatus> statuses = new ArrayList<>();
    for (Branch branch : tx.branches()) {
      statuses.add(branch.op(op).status());
    }
    return statuses;
  }

  public Progress delivery(String messageId, String subscription) {
    return tx.message(messageId).delivery(subscription).progress();
  }

  /**
   * The status of every delivery, as {@code "<messageId> -> <subscription>: <status>"}, in order.
   */
  public List<String> deliveries() {
    List<String> out = new ArrayList<>();
    for (var message : tx.messages()) {
      for (var delivery : message.deliveries()) {
        out.add(
            message.messageId()
                + " -> "
                + delivery.subscription()
                + ": "
                + delivery.progress().status());
      }
    }
    return out;
  }

  /** Every row fired so far, in order. */
  public List<Transition> fired() {
    return List.copyOf(fired);
  }

  // ---- expected values

  /** The row of this transaction's table for {@code (from, trigger)}. */
  public Transition row(Status from, Trigger trigger) {
    return engine.decider(tx.mode()).table().transition(from, trigger);
  }

  /** The call the convention of {@link Specs} makes for {@code op} on {@code branchId}. */
  public Effect.CallOp call(String branchId, Op op, int attempt) {
    return new Effect.CallOp(
        tx.gid(),
        tx.mode(),
        branchId,
        op,
        attempt,
        Specs.url(branchId, op),
        Specs.payload(branchId));
  }

  public Effect.CheckBack checkBack(int attempt) {
    return new Effect.CheckBack(tx.gid(), Specs.CHECK_URL, attempt);
  }

  public Effect.Deliver deliver(String messageId, String subscription, int attempt) {
    var message = tx.message(messageId);
    return new Effect.Deliver(
        tx.gid(),
        messageId,
        subscription,
        attempt,
        message.topic(),
        message.key(),
        message.payload(),
        message.headers());
  }

  // ---- invariants

  private void accept(Decision decision) {
    last = decision;
    fired.addAll(decision.fired());
    Set<Transition> recorder = RECORDER.get();
    if (recorder != null) {
      recorder.addAll(decision.fired());
    }
    tx = decision.next();
  }

  /**
   * What every decision must satisfy, whatever the mode and the event: a rejection changes nothing;
   * the fired rows form a path from the old status to the new one in the mode's own table; a change
   * is exactly one version, stamped now; a logged decision and a final status never change; and
   * each call, check-back or delivery asked for is logged as in flight with that very attempt
   * (persist, then act).
   */
  private void check(Transaction previous, Decision decision) {
    Transaction next = decision.next();
    String where = (previous == null ? "start" : previous.status().label()) + " " + decision;
    if (decision.isRejected()) {
      assertTrue(next.equals(previous), "a rejection keeps the state: " + where);
      assertTrue(
          decision.effects().isEmpty() && decision.fired().isEmpty(),
          "a rejection does nothing: " + where);
      return;
    }
    Status from = previous == null ? null : previous.status();
    Status at = from;
    for (Transition row : decision.fired()) {
      assertTrue(row.mode() == next.mode(), "a row of another mode fired: " + row);
      assertTrue(
          engine.decider(next.mode()).table().rows().contains(row),
          "a row not in the table: " + row);
      assertTrue(row.from() == at, "row " + row + " fired in status " + at + ": " + where);
      at = row.to();
    }
    assertTrue(
        at == next.status(),
        "status " + next.status() + " not reached by the fired rows: " + where);
    if (previous == null) {
      assertTrue(next.version() == 1, "a new transaction is version 1: " + where);
    } else if (decision.changes(previous)) {
      assertTrue(next.version() == previous.version() + 1, "one version per decision: " + where);
      assertTrue(next.updatedAt().equals(now), "updatedAt is the decision's time: " + where);
      assertTrue(
          previous.status().direction() == Status.Direction.UNDECIDED
              || previous.status().direction() == next.status().direction(),
          "a logged decision changed: " + where);
      assertTrue(
          !previous.isFinal() || previous.status() == next.status(),
          "a final status changed: " + where);
    } else {
      assertTrue(next.equals(previous), "an unchanged version holds the same state: " + where);
    }
    for (Effect effect : decision.effects()) {
      Progress progress =
          switch (effect) {
            case Effect.CallOp call -> {
              assertTrue(
                  call.gid().equals(next.gid()) && call.mode() == next.mode(),
                  "foreign call " + call);
              yield next.branch(call.branchId()).op(call.op());
            }
            case Effect.CheckBack checkBack -> next.check();
            case Effect.Deliver deliver ->
                next.message(deliver.messageId()).delivery(deliver.subscription()).progress();
            case Effect.ResolveSubscribers resolve -> null;
          };
      if (progress != null) {
        int attempt =
            switch (effect) {
              case Effect.CallOp call -> call.attempt();
              case Effect.CheckBack checkBack -> checkBack.attempt();
              case Effect.Deliver deliver -> deliver.attempt();
              case Effect.ResolveSubscribers resolve -> 0;
            };
        assertTrue(
            progress.status() == OpStatus.IN_FLIGHT
                && progress.attempts() == attempt
                && progress.dueAt().equals(now.plus(engine.policy().callTimeout())),
            "effect " + effect + " is not logged as in flight: " + progress);
      }
    }
  }

  private static void assertTrue(boolean condition, String message) {
    if (!condition) {
      throw new AssertionError(message);
    }
  }

  /** The mode this driver's transaction runs in. */
  public Mode mode() {
    return tx.mode();
  }
}
