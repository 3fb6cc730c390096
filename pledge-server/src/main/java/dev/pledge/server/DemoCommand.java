package dev.pledge.server;

import dev.pledge.core.Mode;
import dev.pledge.testkit.sim.SimOptions;
import dev.pledge.testkit.sim.SimulationRunner;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pledge demo}: until the coordinator server and the example shop exist, the demo runs the
 * real engine inside the simulator, mode by mode, under lost, duplicated and reordered messages,
 * failing and slow participants, coordinator crashes and clock jumps, and prints a consistency
 * report. Exits 1 if any guarantee was broken.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run every mode under injected faults and print a consistency report.")
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--seeds",
      description = "Simulated runs per mode (default: ${DEFAULT-VALUE}).",
      defaultValue = "500")
  int seeds;

  @Override
  public Integer call() {
    PrintStream out = System.out;
    if (seeds < 1 || seeds > 1_000_000) {
      throw new IllegalArgumentException("--seeds must be in [1, 1000000], got " + seeds);
    }
    out.println(
        "Pledge demo: the engine under faults (simulated network, participants and crashes)");
    out.printf(
        "%-5s %6s %13s %10s %8s %8s %11s%n",
        "mode", "runs", "transactions", "committed", "aborted", "crashes", "violations");
    int violations = 0;
    int workers = Runtime.getRuntime().availableProcessors();
    long firstSeed = 1;
    for (Mode mode : Mode.values()) {
      SimulationRunner.Summary summary =
          SimulationRunner.run(SimOptions.standard(mode), firstSeed, seeds, workers);
      firstSeed += seeds;
      int committed = summary.committedByMode().getOrDefault(mode, 0);
      int aborted = summary.abortedByMode().getOrDefault(mode, 0);
      out.printf(
          "%-5s %6d %13d %10d %8d %8d %11d%n",
          mode.code(),
          summary.seeds(),
          committed + aborted,
          committed,
          aborted,
          summary.crashes(),
          summary.failing());
      for (var failure : summary.failures()) {
        out.println(
            "  seed "
                + failure.seed()
                + ": "
                + failure.violations()
                + "  replay: "
                + failure.replayCommand());
      }
      violations += summary.failing();
    }
    out.println(
        violations == 0
            ? "consistent: every transaction final; all-or-nothing held for tcc and 2pc; every saga fully run or compensated in reverse order; messages delivered iff committed, in key order"
            : "INCONSISTENT: " + violations + " runs broke a guarantee (see above)");
    return violations == 0 ? 0 : 1;
  }
}
