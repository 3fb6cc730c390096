package dev.pledge.core.runtime;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How the runtime runs. Checked when made; every message names the field and the value.
 *
 * @param pollInterval how often to claim due work from the log (the safety net under the timers)
 * @param claimLease how long claimed work stays this coordinator's, by the log's clock
 * @param claimBatch the most transactions claimed at once
 * @param timerHorizon wake-ups further away than this get no timer: the poll finds them
 * @param answerTimeout how long to wait for an answer before taking it as unknown
 * @param maxEffectsInFlight calls awaiting answers past which new transactions are refused
 * @param maxOwned the most unsettled transactions kept in memory; past it, others are read from the
 *     log when needed
 * @param plantedBugs mistakes to make on purpose (the simulator's self-test); empty in production
 */
public record RuntimeConfig(
    Duration pollInterval,
    Duration claimLease,
    int claimBatch,
    Duration timerHorizon,
    Duration answerTimeout,
    int maxEffectsInFlight,
    int maxOwned,
    Set<PlantedBug> plantedBugs) {

  public static final int MAX_EFFECTS_IN_FLIGHT = 1_000_000;
  public static final int MAX_OWNED = 10_000_000;

  /** The server's defaults, with {@code answerTimeout} from the retry policy's call timeout. */
  public static RuntimeConfig defaults(Duration callTimeout) {
    return new RuntimeConfig(
        Duration.ofMillis(200),
        Duration.ofSeconds(10),
        512,
        Duration.ofMillis(400),
        callTimeout,
        20_000,
        100_000,
        Set.of());
  }

  public RuntimeConfig {
    positive("pollInterval", pollInterval, Duration.ofMinutes(1));
    positive("claimLease", claimLease, Duration.ofHours(1));
    positive("answerTimeout", answerTimeout, Duration.ofHours(1));
    Objects.requireNonNull(timerHorizon, "timerHorizon");
    if (timerHorizon.isNegative() || timerHorizon.compareTo(Duration.ofDays(1)) > 0) {
      throw new IllegalArgumentException("timerHorizon must be in [0, 1 day], got " + timerHorizon);
    }
    range("claimBatch", claimBatch, 1, 10_000);
    range("maxEffectsInFlight", maxEffectsInFlight, 1, MAX_EFFECTS_IN_FLIGHT);
    range("maxOwned", maxOwned, 0, MAX_OWNED);
    Objects.requireNonNull(plantedBugs, "plantedBugs");
    plantedBugs = plantedBugs.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(plantedBugs));
  }

  public RuntimeConfig withPollInterval(Duration next) {
    return new RuntimeConfig(
        next,
        claimLease,
        claimBatch,
        timerHorizon,
        answerTimeout,
        maxEffectsInFlight,
        maxOwned,
        plantedBugs);
  }

  public RuntimeConfig withMaxEffectsInFlight(int next) {
    return new RuntimeConfig(
        pollInterval,
        claimLease,
        claimBatch,
        timerHorizon,
        answerTimeout,
        next,
        maxOwned,
        plantedBugs);
  }

  public RuntimeConfig withMaxOwned(int next) {
    return new RuntimeConfig(
        pollInterval,
        claimLease,
        claimBatch,
        timerHorizon,
        answerTimeout,
        maxEffectsInFlight,
        next,
        plantedBugs);
  }

  public RuntimeConfig withPlantedBugs(Set<PlantedBug> next) {
    return new RuntimeConfig(
        pollInterval,
        claimLease,
        claimBatch,
        timerHorizon,
        answerTimeout,
        maxEffectsInFlight,
        maxOwned,
        next);
  }

  private static void positive(String field, Duration value, Duration max) {
    Objects.requireNonNull(value, field);
    if (value.isNegative() || value.isZero() || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(field + " must be in (0, " + max + "], got " + value);
    }
  }

  private static void range(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field + " must be in [" + min + ", " + max + "], got " + value);
    }
  }
}
