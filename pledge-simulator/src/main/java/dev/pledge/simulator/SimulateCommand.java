package dev.pledge.simulator;

import dev.pledge.core.Mode;
import dev.pledge.testkit.sim.SimOptions;
import dev.pledge.testkit.sim.SimResult;
import dev.pledge.testkit.sim.SimulationRunner;
import dev.pledge.testkit.sim.Simulator;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pledge simulate}, a module of its own so that the server ships no test code: runs the
 * deterministic simulator and prints {@code N seeds, V violations}. Exits 1 when any seed broke a
 * guarantee, after printing each failing seed's violations, trace and replay command.
 */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    description = "Run the deterministic simulator over many seeds.")
public final class SimulateCommand implements Callable<Integer> {
  static final int MAX_SEEDS = 10_000_000;

  @Option(
      names = "--seeds",
      description = "How many seeds to run (default: ${DEFAULT-VALUE}).",
      defaultValue = "1000")
  int seeds;

  @Option(names = "--seed", description = "The first seed; alone, runs just that one (default: 1).")
  Long seed;

  @Option(
      names = "--mode",
      description = "Only this mode: saga, tcc, 2pc, xa, 3pc or msg (default: every mode).")
  String mode;

  @Option(
      names = "--partitions",
      description =
          "Add network partitions to the faults: some branches cut off the coordinator for up to"
              + " twice the 3pc participants' abort timeout. 3pc is expected to split there"
              + " (docs/protocols/3pc.md); every other mode must hold.")
  boolean partitions;

  @Option(
      names = "--coordinators",
      description =
          "How many coordinators share the log: 1, or 2 that crash and fence each other with"
              + " leases and epochs, as two servers on one database (default: ${DEFAULT-VALUE}).",
      defaultValue = "2")
  int coordinators;

  @Option(names = "--trace", description = "Print the trace of every run (use with --seed).")
  boolean trace;

  @Option(names = "--threads", description = "Worker threads (default: the number of cores).")
  Integer threads;

  @Option(
      names = "--stats",
      description = "Also print seeds per second, events and injected crashes.")
  boolean stats;

  /** {@code bin/pledge simulate …} runs this. */
  public static void main(String[] args) {
    System.exit(new picocli.CommandLine(new SimulateCommand()).execute(args));
  }

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The CPU time this process has used, or -1 when the JVM cannot tell. */
  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  @Override
  public Integer call() {
    PrintStream out = System.out;
    boolean seedsGiven = spec.commandLine().getParseResult().hasMatchedOption("--seeds");
    int count = seed != null && !seedsGiven ? 1 : seeds;
    if (count < 1 || count > MAX_SEEDS) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--seeds must be in [1, " + MAX_SEEDS + "], got " + count);
    }
    Mode only;
    try {
      only = mode == null ? null : Mode.fromCode(mode);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--mode: " + e.getMessage());
    }
    int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    if (workers < 1 || workers > 64) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--threads must be in [1, 64], got " + workers);
    }
    if (coordinators < 1 || coordinators > SimOptions.MAX_COORDINATORS) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--coordinators must be in [1, "
              + SimOptions.MAX_COORDINATORS
              + "], got "
              + coordinators);
    }
    long first = seed == null ? 1 : seed;
    SimOptions options = SimOptions.standard(only).withCoordinators(coordinators);
    if (partitions) {
      options = options.withPartitions();
    }
    if (trace) {
      Simulator simulator = new Simulator(options);
      for (long s = first; s < first + count; s++) {
        SimResult result = simulator.run(s);
        result.trace().forEach(out::println);
        out.println();
      }
    }
    long cpuBefore = processCpuNanos();
    SimulationRunner.Summary summary = SimulationRunner.run(options, first, count, workers);
    long cpuNanos = processCpuNanos() - cpuBefore;
    for (SimResult failure : summary.failures()) {
      out.println("seed " + failure.seed() + " (" + failure.mode().code() + ") broke:");
      failure.violations().forEach(v -> out.println("  - " + v));
      if (!trace) {
        out.println("  trace:");
        failure.trace().forEach(line -> out.println("    " + line));
      }
      out.println("  replay: " + failure.replayCommand() + (partitions ? " --partitions" : ""));
    }
    if (summary.failing() > summary.failures().size()) {
      out.println(
          "(" + (summary.failing() - summary.failures().size()) + " more failing seeds not shown)");
    }
    if (stats) {
      out.printf(
          "%.0f seeds/s on %d threads, %d coordinator(s); %d events, %d decisions, %d coordinator"
              + " crashes, %d fenced writes; by mode %s%n",
          summary.seedsPerSecond(),
          workers,
          coordinators,
          summary.events(),
          summary.decisions(),
          summary.crashes(),
          summary.fenced(),
          summary.seedsByMode());
      if (cpuNanos > 0) {
        // Wall-clock seeds/s depends on what else the machine runs; CPU time does much less.
        out.printf(
            "%.1f s of process CPU (workers, JIT and GC): %.0f seeds per CPU-second%n",
            cpuNanos / 1e9, summary.seeds() / (cpuNanos / 1e9));
      }
    }
    out.println(summary.line());
    return summary.failing() == 0 ? 0 : 1;
  }
}
