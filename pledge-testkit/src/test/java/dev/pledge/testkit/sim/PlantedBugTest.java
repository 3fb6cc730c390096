package dev.pledge.testkit.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Mode;
import dev.pledge.core.runtime.PlantedBug;
import dev.pledge.testkit.sim.SimulationRunner.Summary;
import org.junit.jupiter.api.Test;

/**
 * Proves the simulator bites: each planted bug must be caught within a fixed budget of seeds, and
 * the failure must name the broken guarantee. The same budget on the correct deciders finds
 * nothing.
 */
class PlantedBugTest {
  private static final int SEED_BUDGET = 500;

  private static Summary simulate(SimOptions options) {
    return SimulationRunner.run(options, 1, SEED_BUDGET, 2);
  }

  @Test
  void twoPcCommittingBeforeEveryPrepareSucceeded_isCaught() {
    Summary summary =
        simulate(
            SimOptions.standard(Mode.TWO_PC)
                .withDecider(Mode.TWO_PC, new PlantedBugs.CommitBeforeAllPrepared()));

    assertThat(summary.failing()).isPositive();
    assertThat(summary.failures().get(0).violations())
        .anyMatch(v -> v.contains("mixed outcome") || v.contains("commit of a branch"));
    // Seeds run untraced; a kept failure was run again with its trace, which ends in the verdict.
    SimResult first = summary.failures().get(0);
    assertThat(first.trace().get(0)).contains("seed " + first.seed() + ", mode ");
    assertThat(first.trace().get(first.trace().size() - 1)).contains("VIOLATIONS: ");
  }

  @Test
  void sagaSkippingACompensation_isCaught() {
    Summary summary =
        simulate(
            SimOptions.standard(Mode.SAGA)
                .withDecider(Mode.SAGA, new PlantedBugs.SkipFirstCompensation()));

    assertThat(summary.failing()).isPositive();
    assertThat(summary.failures().get(0).violations())
        .anyMatch(v -> v.contains("never compensated") || v.contains("never settled"));
  }

  @Test
  void msgDeliveredBeforeCommit_isCaught() {
    Summary summary =
        simulate(
            SimOptions.standard(Mode.MSG)
                .withDecider(Mode.MSG, new PlantedBugs.DeliverWithoutCommit()));

    assertThat(summary.failing()).isPositive();
    assertThat(summary.failures().get(0).violations()).anyMatch(v -> v.contains("did not commit"));
  }

  @Test
  void runtimeActingBeforePersisting_isCaught() {
    Summary summary =
        simulate(SimOptions.standard(null).withRuntimeBug(PlantedBug.ACT_BEFORE_PERSIST));

    assertThat(summary.failing()).isPositive();
    assertThat(summary.failures().get(0).violations()).isNotEmpty();
  }

  @Test
  void runtimeLosingItsTimers_isCaught() {
    Summary summary = simulate(SimOptions.standard(null).withRuntimeBug(PlantedBug.LOSE_TIMERS));

    assertThat(summary.failing()).isPositive();
    assertThat(summary.failures().get(0).violations()).anyMatch(v -> v.contains("never settled"));
  }

  /**
   * Two coordinators share the log; one stalls past its lease, the other claims its work, and the
   * first, waking up, takes the write the log refused as done and acts on it: it commits branches
   * that the coordinator holding the lease rolls back.
   */
  @Test
  void runtimeAcceptingAFencedWrite_isCaught_withTwoCoordinators() {
    Summary summary =
        simulate(
            SimOptions.standard(Mode.TWO_PC)
                .withCoordinators(2)
                .withRuntimeBug(PlantedBug.ACCEPT_FENCED_WRITE));

    assertThat(summary.failing()).isPositive();
    assertThat(summary.failures().get(0).violations())
        .anyMatch(v -> v.contains("mixed outcome") || v.contains("aborted, but branches"));
  }

  @Test
  void correctRuntime_withTwoCoordinators_passesTheSameBudget_whileFencingEachOther() {
    Summary summary = simulate(SimOptions.standard(Mode.TWO_PC).withCoordinators(2));

    assertThat(summary.failures()).extracting(SimResult::replayCommand).isEmpty();
    assertThat(summary.fenced()).as("writes refused by another coordinator's lease").isPositive();
  }

  @Test
  void correctDeciders_passTheSameBudget() {
    for (Mode mode : Mode.values()) {
      Summary summary = simulate(SimOptions.standard(mode));

      assertThat(summary.failures()).as(mode.code()).isEmpty();
      assertThat(summary.seeds()).isEqualTo(SEED_BUDGET);
    }
  }
}
