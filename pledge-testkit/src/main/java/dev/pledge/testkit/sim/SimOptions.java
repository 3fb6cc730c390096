package dev.pledge.testkit.sim;

import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Decider;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.PlantedBug;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * How to simulate: which mode (null: the seed picks one), which deciders (the standard ones unless
 * a test plants a bug), which mistakes the runtime makes on purpose (none unless a test plants
 * one), whether network partitions are among the faults, and how many coordinators share the log
 * (one, or two that crash and fence each other: see {@code SimHost}).
 */
public record SimOptions(
    Mode mode,
    Map<Mode, Decider> deciders,
    Set<PlantedBug> runtimeBugs,
    boolean partitions,
    int coordinators) {

  /** The most coordinators a run may share its log among. */
  public static final int MAX_COORDINATORS = 4;

  /** The retry policy of simulated runs: short waits, so many retries fit in a run. */
  public static final RetryPolicy POLICY =
      new RetryPolicy(
          Duration.ofMillis(50), Duration.ofSeconds(2), 2.0, 0.3, Duration.ofMillis(500), 6);

  public SimOptions {
    Objects.requireNonNull(deciders, "deciders");
    runtimeBugs = Set.copyOf(runtimeBugs);
    if (coordinators < 1 || coordinators > MAX_COORDINATORS) {
      throw new IllegalArgumentException(
          "coordinators must be in [1, " + MAX_COORDINATORS + "], got " + coordinators);
    }
  }

  /** The standard deciders, no planted bug, no partitions, one coordinator. */
  public static SimOptions standard(Mode mode) {
    return new SimOptions(mode, Engine.standardDeciders(Limits.DEFAULT), Set.of(), false, 1);
  }

  public SimOptions withDecider(Mode forMode, Decider decider) {
    Map<Mode, Decider> next = new java.util.EnumMap<>(Mode.class);
    next.putAll(deciders);
    next.put(forMode, decider);
    return new SimOptions(mode, next, runtimeBugs, partitions, coordinators);
  }

  /** The same, with the runtime making {@code bug} on purpose. */
  public SimOptions withRuntimeBug(PlantedBug bug) {
    Set<PlantedBug> next = new java.util.HashSet<>(runtimeBugs);
    next.add(bug);
    return new SimOptions(mode, deciders, next, partitions, coordinators);
  }

  /**
   * The same, under the partition profile: besides the usual faults, a network partition cuts some
   * branches off the coordinator for a while (see {@code Faults.drawWithPartition}). 3pc is known
   * to split its outcome under it; the other modes must not.
   */
  public SimOptions withPartitions() {
    return new SimOptions(mode, deciders, runtimeBugs, true, coordinators);
  }

  /**
   * The same, with {@code count} coordinators sharing the log: each crashes and restarts on its
   * own, with a newer epoch each time, and its leases fence the others' writes. One keeps every
   * seed's run as it was.
   */
  public SimOptions withCoordinators(int count) {
    return new SimOptions(mode, deciders, runtimeBugs, partitions, count);
  }

  Engine engine() {
    return new Engine(Limits.DEFAULT, POLICY, deciders);
  }
}
