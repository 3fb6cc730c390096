package dev.pledge.testkit.sim;

import dev.pledge.core.Mode;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Transition;
import java.util.List;
import java.util.Set;

/**
 * What one simulated run found.
 *
 * @param violations every guarantee the run broke, in words; empty when it held them all
 * @param trace the run's events, in simulated time, for replaying a failure by eye
 * @param fired every transition-table row the run exercised
 * @param written every version of every transaction the coordinators wrote to the log, in order (at
 *     most {@code SimHost.MAX_WRITES_KEPT})
 * @param coordinators how many coordinators shared the log
 * @param fenced writes the log refused because another coordinator's lease fenced the writer off
 */
public record SimResult(
    long seed,
    Mode mode,
    int transactions,
    int committed,
    int aborted,
    long events,
    long decisions,
    int crashes,
    List<String> violations,
    List<String> trace,
    Set<Transition> fired,
    List<Transaction> written,
    int coordinators,
    long fenced) {

  public boolean ok() {
    return violations.isEmpty();
  }

  /** The command that replays this run exactly, with its trace. */
  public String replayCommand() {
    return "bin/pledge simulate --seed "
        + seed
        + " --mode "
        + mode.code()
        + " --coordinators "
        + coordinators
        + " --trace";
  }
}
