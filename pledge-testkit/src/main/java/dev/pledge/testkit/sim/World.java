package dev.pledge.testkit.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The simulated world's time, event queue, network and randomness. Everything random is drawn from
 * one seeded source in one thread, so a seed replays exactly.
 */
final class World {
  static final int MAX_TRACE_LINES = 200_000;

  final SplittableRandom random;
  final Faults faults;

  /**
   * Whether this run keeps a trace. A trace is only read for a failing seed or under {@code
   * --trace}, and building its lines (labels, formatted times) was a tenth of a passing seed's CPU;
   * so the runner runs untraced and runs a failing seed again, traced. Tracing draws nothing from
   * {@link #random}, so both runs make the same choices.
   */
  private final boolean tracing;

  private final PriorityQueue<Scheduled> queue = new PriorityQueue<>();
  private final List<String> trace = new ArrayList<>();
  private long now;
  private long sequence;
  private long events;

  private record Scheduled(long at, long sequence, String label, Runnable action)
      implements Comparable<Scheduled> {
    @Override
    public int compareTo(Scheduled other) {
      int byTime = Long.compare(at, other.at);
      return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
  }

  World(SplittableRandom random, Faults faults, boolean tracing) {
    this.random = random;
    this.faults = faults;
    this.tracing = tracing;
  }

  /** Whether trace lines are kept: call sites that build a costly line check this first. */
  boolean tracing() {
    return tracing;
  }

  Faults faults() {
    return faults;
  }

  long now() {
    return now;
  }

  long events() {
    return events;
  }

  boolean faulty() {
    return now < faults.endMillis();
  }

  /** True with probability {@code p}, and only while faults are on. */
  boolean fault(double p) {
    return faulty() && random.nextDouble() < p;
  }

  /**
   * True with probability {@code p}, whether or not faults are on (business outcomes, not faults).
   */
  boolean chance(double p) {
    return random.nextDouble() < p;
  }

  void at(long delayMillis, String label, Runnable action) {
    queue.add(new Scheduled(now + Math.max(0, delayMillis), sequence++, label, action));
  }

  /**
   * One message over the network: maybe lost, maybe duplicated, delayed by a random time (so
   * reordered). {@code label} names it in the trace; null when not {@link #tracing()}.
   */
  void send(String label, Runnable deliver) {
    if (fault(faults.drop())) {
      if (tracing) {
        trace("lost    " + label);
      }
      return;
    }
    at(delay(), label, deliver);
    if (fault(faults.duplicate())) {
      at(delay(), label == null ? null : label + " (duplicate)", deliver);
    }
  }

  private long delay() {
    return faulty() ? 1 + random.nextInt(faults.maxDelayMillis()) : 1 + random.nextInt(5);
  }

  /** Runs events until none is left, {@code done} holds, or time passes {@code limitMillis}. */
  void run(long limitMillis, java.util.function.BooleanSupplier done) {
    while (!queue.isEmpty() && !done.getAsBoolean()) {
      Scheduled next = queue.poll();
      if (next.at() > limitMillis) {
        now = limitMillis;
        return;
      }
      now = next.at();
      events++;
      if (tracing && next.label() != null) {
        trace(next.label());
      }
      next.action().run();
    }
  }

  void trace(String line) {
    if (tracing && trace.size() < MAX_TRACE_LINES) {
      String millis = Long.toString(now);
      trace.add(" ".repeat(Math.max(0, 7 - millis.length())) + millis + " ms  " + line);
    }
  }

  List<String> trace() {
    return trace;
  }
}
