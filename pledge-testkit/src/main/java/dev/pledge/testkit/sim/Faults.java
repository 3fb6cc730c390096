package dev.pledge.testkit.sim;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

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
 * @param partition a network partition between the coordinator and some participants, or null (only
 *     the partition profile has one; {@code endMillis} then reaches past its end)
 */
record Faults(
    long endMillis,
    double drop,
    double duplicate,
    int maxDelayMillis,
    double serverError,
    double pending,
    double crash,
    double clockJump,
    Partition partition) {

  /** Faults stop before this, in every profile without a partition. */
  static final long MAX_END_MILLIS = 10_000;

  /**
   * For {@code [startMillis, endMillis)}, every message between the coordinator and the branches
   * named in {@code branchIds} (of every transaction) is lost, both ways.
   */
  record Partition(Set<String> branchIds, long startMillis, long endMillis) {
    Partition {
      branchIds = Set.copyOf(branchIds);
    }

    boolean cuts(String branchId, long now) {
      return now >= startMillis && now < endMillis && branchIds.contains(branchId);
    }

    @Override
    public String toString() {
      return "partition of "
          + new TreeSet<>(branchIds)
          + " from "
          + startMillis
          + " to "
          + endMillis
          + " ms";
    }
  }

  /**
   * Draws a fault profile: some seeds are gentle, some harsh, so both common and rare paths run.
   */
  static Faults draw(SplittableRandom random) {
    double harshness = random.nextDouble();
    return new Faults(
        1_000 + random.nextInt((int) MAX_END_MILLIS - 1_000),
        0.25 * harshness * random.nextDouble(),
        0.2 * harshness * random.nextDouble(),
        1 + random.nextInt(harshness > 0.5 ? 800 : 60),
        0.3 * harshness * random.nextDouble(),
        0.15 * harshness * random.nextDouble(),
        0.12 * harshness * random.nextDouble(),
        0.1 * harshness * random.nextDouble(),
        null);
  }

  /**
   * The partition profile: a profile as {@link #draw} makes, then a partition that cuts one or two
   * of the branches {@code b1..b4} off the coordinator, starting within the first 4 s and lasting
   * between half and twice {@code partitionScaleMillis} (the participants' abort timeout, so that
   * some partitions outlast it and some do not). Faults go on until the partition ends.
   */
  static Faults drawWithPartition(SplittableRandom random, long partitionScaleMillis) {
    Faults base = draw(random);
    List<String> names = List.of("b1", "b2", "b3", "b4");
    Set<String> cut = new TreeSet<>();
    cut.add(names.get(random.nextInt(names.size())));
    if (random.nextDouble() < 0.3) {
      cut.add(names.get(random.nextInt(names.size())));
    }
    long start = random.nextInt(4_000);
    long end = start + partitionScaleMillis / 2 + random.nextLong(partitionScaleMillis * 3 / 2 + 1);
    return new Faults(
        Math.max(base.endMillis(), end),
        base.drop(),
        base.duplicate(),
        base.maxDelayMillis(),
        base.serverError(),
        base.pending(),
        base.crash(),
        base.clockJump(),
        new Partition(cut, start, end));
  }

  /** Whether the partition, if any, cuts {@code branchId} off the coordinator at {@code now}. */
  boolean cuts(String branchId, long now) {
    return partition != null && partition.cuts(branchId, now);
  }
}
