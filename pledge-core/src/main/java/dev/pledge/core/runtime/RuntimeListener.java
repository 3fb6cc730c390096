package dev.pledge.core.runtime;

import dev.pledge.core.Mode;
import dev.pledge.core.Outcome;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Transition;
import java.time.Duration;
import java.util.List;

/**
 * What the runtime tells the outside: logging, metrics, long polls and the simulator's bookkeeping
 * hang off it. Every method defaults to doing nothing; implementations must be fast and must not
 * throw (they run on the runtime's path, some under a transaction's lock).
 */
public interface RuntimeListener {
  RuntimeListener NONE = new RuntimeListener() {};

  /** A listener that tells each of {@code listeners}, in order. */
  static RuntimeListener all(List<RuntimeListener> listeners) {
    List<RuntimeListener> each = List.copyOf(listeners);
    return new RuntimeListener() {
      @Override
      public void decided(Decision decision) {
        each.forEach(l -> l.decided(decision));
      }

      @Override
      public void transitioned(Transaction tx, Transition row) {
        each.forEach(l -> l.transitioned(tx, row));
      }

      @Override
      public void finalized(Transaction tx) {
        each.forEach(l -> l.finalized(tx));
      }

      @Override
      public void answered(Mode mode, String op, Outcome outcome, Duration latency) {
        each.forEach(l -> l.answered(mode, op, outcome, latency));
      }

      @Override
      public void logWritten(Duration latency) {
        each.forEach(l -> l.logWritten(latency));
      }

      @Override
      public void logFailed(String what, RuntimeException failure) {
        each.forEach(l -> l.logFailed(what, failure));
      }

      @Override
      public void fenced(Transaction tx, RuntimeException failure) {
        each.forEach(l -> l.fenced(tx, failure));
      }

      @Override
      public void recoveryDone(long recovered) {
        each.forEach(l -> l.recoveryDone(recovered));
      }
    };
  }

  /** A decider ran; {@code decision} may be a rejection or change nothing. */
  default void decided(Decision decision) {}

  /** A row of the transition table fired and was written (or acted on) as {@code tx}. */
  default void transitioned(Transaction tx, Transition row) {}

  /** {@code tx} is in the log and final; long polls waiting on it can answer. */
  default void finalized(Transaction tx) {}

  /** An answer (or its absence, as unknown) came back {@code latency} after its call. */
  default void answered(Mode mode, String op, Outcome outcome, Duration latency) {}

  /** A write of a transaction's state (and its history) to the log took {@code latency}. */
  default void logWritten(Duration latency) {}

  /** A write or a search for due work failed for an operating reason; it is found again later. */
  default void logFailed(String what, RuntimeException failure) {}

  /** A transaction was left to the coordinator whose newer lease fences this one off. */
  default void fenced(Transaction tx, RuntimeException failure) {}

  /**
   * The background recovery that {@link Coordinator#start()} began has been through the whole log;
   * {@code recovered} transactions of an earlier run were recovered.
   */
  default void recoveryDone(long recovered) {}
}
