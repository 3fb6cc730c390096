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
 * a test plants a bug), and which mistakes the runtime makes on purpose (none unless a test plants
 * one).
 */
public record SimOptions(Mode mode, Map<Mode, Decider> deciders, Set<PlantedBug> runtimeBugs) {

  /** The retry policy of simulated runs: short waits, so many retries fit in a run. */
  public static final RetryPolicy POLICY =
      new RetryPolicy(
          Duration.ofMillis(50), Duration.ofSeconds(2), 2.0, 0.3, Duration.ofMillis(500), 6);

  public SimOptions {
    Objects.requireNonNull(deciders, "deciders");
    runtimeBugs = Set.copyOf(runtimeBugs);
  }

  public static SimOptions standard(Mode mode) {
    return new SimOptions(mode, Engine.standardDeciders(Limits.DEFAULT), Set.of());
  }

  public SimOptions withDecider(Mode forMode, Decider decider) {
    Map<Mode, Decider> next = new java.util.EnumMap<>(Mode.class);
    next.putAll(deciders);
    next.put(forMode, decider);
    return new SimOptions(mode, next, runtimeBugs);
  }

  /** The same, with the runtime making {@code bug} on purpose. */
  public SimOptions withRuntimeBug(PlantedBug bug) {
    Set<PlantedBug> next = new java.util.HashSet<>(runtimeBugs);
    next.add(bug);
    return new SimOptions(mode, deciders, next);
  }

  Engine engine() {
    return new Engine(Limits.DEFAULT, POLICY, deciders);
  }
}
