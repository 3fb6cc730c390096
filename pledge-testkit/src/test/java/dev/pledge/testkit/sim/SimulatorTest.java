package dev.pledge.testkit.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.engine.Trigger;
import dev.pledge.core.lra.LraDecider;
import dev.pledge.core.threepc.ThreePcDecider;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SimulatorTest {

  @Test
  void sameSeed_replaysExactly() {
    Simulator simulator = new Simulator(SimOptions.standard(null));
    for (long seed = 100; seed < 120; seed++) {
      SimResult first = simulator.run(seed);
      SimResult second = simulator.run(seed);

      assertThat(second.trace()).isEqualTo(first.trace());
      assertThat(second.violations()).isEqualTo(first.violations());
    }
  }

  @Test
  void sameSeed_replaysExactly_withTwoCoordinators() {
    Simulator simulator = new Simulator(SimOptions.standard(null).withCoordinators(2));
    for (long seed = 100; seed < 120; seed++) {
      SimResult first = simulator.run(seed);
      SimResult second = simulator.run(seed);

      assertThat(second.trace()).isEqualTo(first.trace());
      assertThat(second.violations()).isEqualTo(first.violations());
      assertThat(first.coordinators()).isEqualTo(2);
    }
  }

  /** The runner runs seeds untraced; leaving the trace out must not change a single choice. */
  @Test
  void untracedRun_makesTheSameChoicesAsTracedRun() {
    Simulator simulator = new Simulator(SimOptions.standard(null).withCoordinators(2));
    for (long seed = 100; seed < 140; seed++) {
      SimResult traced = simulator.run(seed, true);
      SimResult untraced = simulator.run(seed, false);

      assertThat(untraced.trace()).isEmpty();
      assertThat(traced.trace()).isNotEmpty();
      assertThat(untraced.violations()).isEqualTo(traced.violations());
      assertThat(untraced.events()).isEqualTo(traced.events());
      assertThat(untraced.decisions()).isEqualTo(traced.decisions());
      assertThat(untraced.crashes()).isEqualTo(traced.crashes());
      assertThat(untraced.fenced()).isEqualTo(traced.fenced());
      assertThat(untraced.written()).isEqualTo(traced.written());
    }
  }

  /**
   * Two coordinators on one log, as two servers on one database: they crash, stall past their
   * leases and fence each other, and every guarantee still holds.
   */
  @Test
  void twoCoordinatorsSharingTheLog_holdEveryGuarantee_whileFencingEachOther() {
    SimulationRunner.Summary summary =
        SimulationRunner.run(SimOptions.standard(null).withCoordinators(2), 2_000_000, 2_000, 2);

    assertThat(summary.failures()).extracting(SimResult::replayCommand).isEmpty();
    assertThat(summary.seedsByMode()).containsOnlyKeys(Mode.values());
    assertThat(summary.crashes()).as("coordinator crashes injected").isGreaterThan(100);
    assertThat(summary.fenced()).as("writes refused by another coordinator's lease").isPositive();
  }

  @Test
  void thousandsOfSeedsOverEveryMode_holdEveryGuarantee() {
    SimulationRunner.Summary summary =
        SimulationRunner.run(SimOptions.standard(null), 1_000_000, 2_000, 2);

    assertThat(summary.failures()).extracting(SimResult::replayCommand).isEmpty();
    assertThat(summary.seedsByMode()).containsOnlyKeys(Mode.values());
    assertThat(summary.crashes()).as("coordinator crashes injected").isGreaterThan(100);
  }

  @Test
  void everyTransitionExceptUnreachableOnes_isExercisedBySimulation() {
    SimulationRunner.Summary summary =
        SimulationRunner.run(SimOptions.standard(null), 0, 20_000, 2);
    Set<Transition> fired = new HashSet<>(summary.fired());
    List<String> never = new ArrayList<>();
    for (var table : Engine.tables()) {
      for (Transition row : table.rows()) {
        if (!fired.contains(row)) {
          never.add(row.toString());
        }
      }
    }

    // A tcc transaction makes no call while begun, so an answer there is a forged or buggy one:
    // the decider handles it (a unit test proves it), but no simulated run can produce it.
    // 3pc's heuristic rows need a participant that aborted by itself while the coordinator commits:
    // without partitions, and within the bounds 3pc assumes, that never happens (which is what the
    // simulator checks); ThreePcSimulationTest fires the do-commit one under a partition. Unit
    // tests prove both.
    // msg's late check-back answer after the producer's own commit was not fired with six modes;
    // with lra as the seventh, the seeds draw other schedules and it is fired again.
    // lra: the simulated LRAs are top-level, their participants never report FailedTo…, no after
    // listener joins an ending LRA, and an open LRA makes no call; nested LRAs and failed
    // participants are proven by LraDeciderTest and
    // against the server (LraCoordinatorTest, the LRA TCK).
    List<String> expected =
        new ArrayList<>(
            List.of(
                "tcc: begun --stale-answer--> begun / ignore an answer that belongs to no call",
                ThreePcDecider.TABLE.transition(Status.PREPARED, Trigger.OP_FAILED).toString(),
                ThreePcDecider.TABLE.transition(Status.COMMITTING, Trigger.OP_FAILED).toString()));
    for (Transition row : LraDecider.TABLE.rows()) {
      if (row.from() == Status.PREPARED
          || row.trigger() == Trigger.NESTED_CLOSE_REQUESTED
          || row.trigger() == Trigger.OP_FAILED_FINALLY
          || (row.from() != Status.BEGUN && row.trigger() == Trigger.BRANCH_REGISTERED)
          || (row.from() == Status.BEGUN && row.trigger() == Trigger.STALE_ANSWER)) {
        expected.add(row.toString());
      }
    }
    assertThat(never).containsExactlyInAnyOrderElementsOf(expected);
  }
}
