package dev.pledge.testkit.sim;

import dev.pledge.core.Mode;
import dev.pledge.core.engine.Transition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs many seeds on a few threads (each seed is independent and deterministic) and sums them up.
 */
public final class SimulationRunner {
  /** Failing runs kept whole (with their trace) in a summary; the rest are only counted. */
  public static final int MAX_FAILURES_KEPT = 10;

  private SimulationRunner() {}

  /**
   * The outcome of many runs.
   *
   * @param failing how many seeds broke at least one guarantee
   * @param failures the first few failing runs, whole
   * @param fenced writes refused because another coordinator's lease fenced the writer off
   */
  public record Summary(
      int seeds,
      int failing,
      List<SimResult> failures,
      Map<Mode, Integer> seedsByMode,
      Map<Mode, Integer> committedByMode,
      Map<Mode, Integer> abortedByMode,
      long events,
      long decisions,
      long crashes,
      long fenced,
      Duration elapsed,
      Set<Transition> fired) {

    public double seedsPerSecond() {
      return seeds / Math.max(1e-9, elapsed.toNanos() / 1e9);
    }

    /** The one summary line: {@code N seeds, V violations}. */
    public String line() {
      return seeds + " seeds, " + failing + " violations";
    }
  }

  public static Summary run(SimOptions options, long firstSeed, int count, int threads) {
    if (count < 1 || threads < 1 || threads > 64) {
      throw new IllegalArgumentException(
          "need count >= 1 and threads in [1, 64], got " + count + " and " + threads);
    }
    long start = System.nanoTime();
    Simulator simulator = new Simulator(options);
    int chunks = Math.min(count, threads * 8);
    List<Future<Partial>> futures = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      for (int c = 0; c < chunks; c++) {
        long from = firstSeed + (long) count * c / chunks;
        long to = firstSeed + (long) count * (c + 1) / chunks;
        futures.add(pool.submit(() -> runRange(simulator, from, to)));
      }
      Partial total = new Partial();
      for (Future<Partial> future : futures) {
        total.add(future.get());
      }
      // Seeds ran untraced (a trace is a tenth of a seed's CPU); the failures kept are run again
      // with their trace, which draws no random choice, so they replay exactly.
      List<SimResult> failures = new ArrayList<>();
      for (SimResult failure : total.failures) {
        failures.add(simulator.run(failure.seed(), true));
      }
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
      return new Summary(
          count,
          total.failing,
          List.copyOf(failures),
          Map.copyOf(total.byMode),
          Map.copyOf(total.committed),
          Map.copyOf(total.aborted),
          total.events,
          total.decisions,
          total.crashes,
          total.fenced,
          elapsed,
          total.fired);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while simulating", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a simulated run threw: " + e.getCause(), e.getCause());
    }
  }

  private static Partial runRange(Simulator simulator, long from, long to) {
    Partial partial = new Partial();
    for (long seed = from; seed < to; seed++) {
      SimResult result;
      try {
        result = simulator.run(seed, false);
      } catch (RuntimeException e) {
        throw new IllegalStateException(
            "seed " + seed + " threw (replay: bin/pledge simulate --seed " + seed + " --trace)", e);
      }
      partial.byMode.merge(result.mode(), 1, Integer::sum);
      partial.committed.merge(result.mode(), result.committed(), Integer::sum);
      partial.aborted.merge(result.mode(), result.aborted(), Integer::sum);
      partial.events += result.events();
      partial.decisions += result.decisions();
      partial.crashes += result.crashes();
      partial.fenced += result.fenced();
      partial.fired.addAll(result.fired());
      if (!result.ok()) {
        partial.failing++;
        if (partial.failures.size() < MAX_FAILURES_KEPT) {
          partial.failures.add(result); // untraced: run() runs the ones it keeps again, traced
        }
      }
    }
    return partial;
  }

  private static final class Partial {
    final Map<Mode, Integer> byMode = new EnumMap<>(Mode.class);
    final Map<Mode, Integer> committed = new EnumMap<>(Mode.class);
    final Map<Mode, Integer> aborted = new EnumMap<>(Mode.class);
    final List<SimResult> failures = new ArrayList<>();
    final Set<Transition> fired = new LinkedHashSet<>();
    int failing;
    long events;
    long decisions;
    long crashes;
    long fenced;

    void add(Partial other) {
      other.byMode.forEach((mode, n) -> byMode.merge(mode, n, Integer::sum));
      other.committed.forEach((mode, n) -> committed.merge(mode, n, Integer::sum));
      other.aborted.forEach((mode, n) -> aborted.merge(mode, n, Integer::sum));
      for (SimResult failure : other.failures) {
        if (failures.size() < MAX_FAILURES_KEPT) {
          failures.add(failure);
        }
      }
      fired.addAll(other.fired);
      failing += other.failing;
      events += other.events;
      decisions += other.decisions;
      crashes += other.crashes;
      fenced += other.fenced;
    }
  }
}
