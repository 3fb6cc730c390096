package dev.pledge.testkit.sim;

import java.util.SplittableRandom;

/**
 * How hostile one simulated run is. Faults happen only before {@code endMillis}; after it the
 * network is reliable, participants answer definitively and the coordinator stays up, so every
 * transaction must then become final within its timeout plus a bounded retry delay.
 *
 * @param endMillis when faults stop, in simulated milliseconds
 * @param drop probability that a message on the network is lost
 * @param duplicate probability that a message is delivered twice
 * @param maxDelayMillis the longest network delay; random delays reorder messages
 * @param serverError probability that a participant answers 5xx (before or after doing the work)
 * @param pending probability that a participant answers 425 (ask again later)
 * @param crash probability that the coordinator is killed at a given step (before or after a log
 *     write, or between two effects)
 * @param clockJump probability, per coordinator poll, that the coordinator's clock jumps
 */
record Faults(
    long endMillis,
    double drop,
    double duplicate,
    int maxDelayMillis,
    double serverError,
    double pending,
    double crash,
    double clockJump) {

  /**
   * Draws a fault profile: some seeds are gentle, some harsh, so both common and rare paths run.
   */
  static Faults draw(SplittableRandom random) {
    double harshness = random.nextDouble();
    return new Faults(
        1_000 + random.nextInt(9_000),
        0.25 * harshness * random.nextDouble(),
        0.2 * harshness * random.nextDouble(),
        1 + random.nextInt(harshness > 0.5 ? 800 : 60),
        0.3 * harshness * random.nextDouble(),
        0.15 * harshness * random.nextDouble(),
        0.12 * harshness * random.nextDouble(),
        0.1 * harshness * random.nextDouble());
  }
}
