package dev.pledge.testkit.contract;

import dev.pledge.core.Delivery;
import dev.pledge.core.Message;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import dev.pledge.core.history.History;
import dev.pledge.core.history.HistoryEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The life of one transaction as the engine decides it: every logged version, oldest first, and the
 * history lines the transitions would write. The contract builds its transactions this way rather
 * than by hand, so they carry exactly the shapes a coordinator writes (branches with progress,
 * messages with deliveries, flags, abandoned and skipped ops).
 *
 * <p>The story has its own clock: events happen at {@link #now()}, which moves only through {@link
 * #at} and {@link #after}, so a test can say exactly when each op falls due.
 */
final class Story {
  private final Engine engine;
  private final List<Transaction> versions = new ArrayList<>();
  private final List<List<HistoryEntry>> history = new ArrayList<>();
  private Instant now;

  private Story(Engine engine, Instant now) {
    this.engine = engine;
    this.now = now;
  }

  /** A transaction started from {@code spec} at {@code now}: its first version. */
  static Story start(Engine engine, TransactionSpec spec, Instant now) {
    Story story = new Story(engine, now);
    story.append(engine.start(spec, now), null);
    return story;
  }

  Instant now() {
    return now;
  }

  /** Moves the story's clock to {@code instant}; time never goes back. */
  Story at(Instant instant) {
    if (instant.isBefore(now)) {
      throw new IllegalArgumentException("time goes forward: " + instant + " is before " + now);
    }
    now = instant;
    return this;
  }

  Story after(Duration duration) {
    return at(now.plus(duration));
  }

  /**
   * Feeds {@code event} to the engine at {@link #now()}; it must be accepted and change something.
   */
  Story on(Event event) {
    Transaction latest = latest();
    Decision decision = engine.decide(latest, event, now);
    if (decision.isRejected()) {
      throw new IllegalStateException(
          "fixture bug: " + event + " was rejected: " + decision.rejection());
    }
    if (!decision.changes(latest)) {
      throw new IllegalStateException("fixture bug: " + event + " changed nothing in " + latest);
    }
    append(decision, event);
    return this;
  }

  /** The participant of {@code branchId} answers the latest call of {@code op}. */
  Story answer(String branchId, Op op, Outcome outcome) {
    int attempt = latest().branch(branchId).op(op).attempts();
    return on(new Event.OpCompleted(branchId, op, attempt, outcome));
  }

  /** The producer answers the latest check-back. */
  Story answerCheck(Outcome outcome) {
    return on(new Event.CheckCompleted(latest().check().attempts(), outcome));
  }

  /** The subscription answers the latest delivery of {@code messageId}. */
  Story answerDelivery(String messageId, String subscription, Outcome outcome) {
    int attempt = latest().message(messageId).delivery(subscription).progress().attempts();
    return on(new Event.DeliveryCompleted(messageId, subscription, attempt, outcome));
  }

  /**
   * Every call in flight succeeds, again and again, until none is left: a saga runs to its end, a
   * decided 2pc or tcc finishes its phase, committed messages are all acknowledged.
   */
  Story succeedEverythingInFlight() {
    for (int round = 0; round < 1_000; round++) {
      Transaction tx = latest();
      Event next = nextSuccess(tx);
      if (next == null) {
        return this;
      }
      on(next);
    }
    throw new IllegalStateException("fixture bug: calls kept coming in " + latest());
  }

  /**
   * Gives their turn to the keyed deliveries that head their (subscription, key) queue, as the
   * runtime does once the log holds the queues: here with this transaction alone in them, so the
   * head is the first of its key, in message order, not delivered or dead yet.
   */
  Story takeTurns() {
    for (Event turn : turns(latest(), null)) {
      on(turn);
    }
    return this;
  }

  /**
   * The turns due in {@code tx} alone: one per (subscription, key) whose first owed delivery is
   * idle; to {@code subscription} only, when not null.
   */
  static List<Event> turns(Transaction tx, String subscription) {
    List<Event> turns = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Message message : tx.messages()) {
      if (message.key() == null) {
        continue;
      }
      for (Delivery delivery : message.deliveries()) {
        if (delivery.progress().status().isDone()
            || (subscription != null && !subscription.equals(delivery.subscription()))
            || !seen.add(delivery.subscription() + "\n" + message.key())) {
          continue;
        }
        if (delivery.progress().status() == OpStatus.IDLE) {
          turns.add(new Event.KeyTurn(message.messageId(), delivery.subscription()));
        }
      }
    }
    return turns;
  }

  private static Event nextSuccess(Transaction tx) {
    for (var branch : tx.branches()) {
      for (var op : branch.ops().entrySet()) {
        Progress progress = op.getValue();
        if (progress.status() == OpStatus.IN_FLIGHT) {
          return new Event.OpCompleted(
              branch.branchId(), op.getKey(), progress.attempts(), Outcome.SUCCEEDED);
        }
      }
    }
    if (tx.check().status() == OpStatus.IN_FLIGHT) {
      return new Event.CheckCompleted(tx.check().attempts(), Outcome.SUCCEEDED);
    }
    for (Message message : tx.messages()) {
      for (Delivery delivery : message.deliveries()) {
        if (delivery.progress().status() == OpStatus.IN_FLIGHT) {
          return new Event.DeliveryCompleted(
              message.messageId(),
              delivery.subscription(),
              delivery.progress().attempts(),
              Outcome.SUCCEEDED);
        }
      }
    }
    List<Event> turns = turns(tx, null);
    return turns.isEmpty() ? null : turns.get(0);
  }

  /** Every logged version, oldest first; versions are consecutive from 1. */
  List<Transaction> versions() {
    return List.copyOf(versions);
  }

  Transaction first() {
    return versions.get(0);
  }

  Transaction latest() {
    return versions.get(versions.size() - 1);
  }

  /** The history entries of every version so far, oldest first. */
  List<HistoryEntry> history() {
    return history.stream().flatMap(List::stream).toList();
  }

  /** The history entries written with version {@code version}. */
  List<HistoryEntry> historyOf(long version) {
    return history.get((int) version - 1);
  }

  private void append(Decision decision, Event event) {
    Transaction next = decision.next();
    long expected = versions.size() + 1L;
    if (next.version() != expected) {
      throw new IllegalStateException(
          "fixture bug: expected version " + expected + ", the engine made " + next.version());
    }
    versions.add(next);
    // Answers get a latency, so that the contract sees it stored and read back.
    History.Noted noted =
        event == null
            ? null
            : new History.Noted(
                event,
                event instanceof Event.OpCompleted
                        || event instanceof Event.CheckCompleted
                        || event instanceof Event.DeliveryCompleted
                    ? Duration.ofNanos(1_234_000)
                    : null);
    history.add(
        History.of(
            next,
            noted == null ? List.of() : List.of(noted),
            decision.fired(),
            decision.effects(),
            now));
  }
}
