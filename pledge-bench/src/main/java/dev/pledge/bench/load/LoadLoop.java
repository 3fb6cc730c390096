package dev.pledge.bench.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * A closed loop: {@code concurrency} clients on virtual threads, each starting its next global
 * transaction as soon as the previous one is done. A warm-up, then a measured window; a transaction
 * counts in the window when it ends inside it.
 *
 * <p>Latency is recorded twice in microseconds with HdrHistogram: as measured, and corrected for
 * coordinated omission. A closed-loop client that stalls sends nothing while it waits, so the
 * requests a steady client would have sent meanwhile are missing from the raw samples; {@code
 * recordValueWithExpectedInterval} adds them back, with the expected interval between one client's
 * requests taken from the warm-up: {@code concurrency / warm-up throughput}.
 */
final class LoadLoop {
  private static final long MAX_LATENCY_MICROS = TimeUnit.SECONDS.toMicros(120);

  /** One global transaction (or baseline unit) named {@code id}: true if it succeeded. */
  interface Task {
    boolean run(String id);
  }

  /** Called at the measured window's start and end, on the coordinating thread. */
  interface Probe {
    void windowStart();

    void windowEnd();
  }

  static final Probe NO_PROBE =
      new Probe() {
        @Override
        public void windowStart() {}

        @Override
        public void windowEnd() {}
      };

  record Result(
      long completed,
      long errors,
      double seconds,
      Histogram corrected,
      Histogram raw,
      long expectedIntervalMicros) {
    double perSecond() {
      return completed / seconds;
    }
  }

  private LoadLoop() {}

  static Result run(
      String idPrefix, int concurrency, Duration warmup, Duration measure, Task task, Probe probe) {
    if (concurrency < 1 || concurrency > 4096) {
      throw new IllegalArgumentException("concurrency must be in [1, 4096], got " + concurrency);
    }
    AtomicLong ids = new AtomicLong();
    LongAdder warmupDone = new LongAdder();
    LongAdder errors = new LongAdder();
    LongAdder completed = new LongAdder();
    long[] window = new long[2];
    Object windowLock = new Object();
    var state =
        new Object() {
          volatile long windowStartNanos = Long.MAX_VALUE;
          volatile long windowEndNanos = Long.MAX_VALUE;
          volatile long expectedIntervalMicros = 0;
          volatile boolean stop;
        };
    List<Histogram> raws = new ArrayList<>();
    List<Histogram> correcteds = new ArrayList<>();
    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      Histogram raw = new Histogram(MAX_LATENCY_MICROS, 3);
      Histogram corrected = new Histogram(MAX_LATENCY_MICROS, 3);
      raws.add(raw);
      correcteds.add(corrected);
      clients.add(
          Thread.ofVirtual()
              .name(idPrefix + "-client-" + i)
              .start(() -> {
                while (!state.stop) {
                  String id = idPrefix + "-" + ids.incrementAndGet();
                  long start = System.nanoTime();
                  boolean ok;
                  try {
                    ok = task.run(id);
                  } catch (RuntimeException e) {
                    ok = false;
                  }
                  long end = System.nanoTime();
                  if (end < state.windowStartNanos) {
                    warmupDone.increment();
                  } else if (end < state.windowEndNanos) {
                    if (ok) {
                      long micros = Math.min(MAX_LATENCY_MICROS, Math.max(1, (end - start) / 1000));
                      raw.recordValue(micros);
                      corrected.recordValueWithExpectedInterval(
                          micros, state.expectedIntervalMicros);
                      completed.increment();
                    } else {
                      errors.increment();
                    }
                  }
                }
              }));
    }
    long warmupStart = System.nanoTime();
    sleep(warmup);
    long warmupNanos = System.nanoTime() - warmupStart;
    long warm = Math.max(1, warmupDone.sum());
    state.expectedIntervalMicros = Math.max(1, warmupNanos / 1000 * concurrency / warm);
    synchronized (windowLock) {
      probe.windowStart();
      window[0] = System.nanoTime();
      state.windowStartNanos = window[0];
    }
    sleep(measure);
    synchronized (windowLock) {
      window[1] = System.nanoTime();
      state.windowEndNanos = window[1];
      probe.windowEnd();
    }
    state.stop = true;
    for (Thread client : clients) {
      try {
        if (!client.join(Drivers.CALL_TIMEOUT.plusSeconds(30))) {
          throw new BenchException(client.getName() + " did not stop");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BenchException("interrupted", e);
      }
    }
    Histogram raw = new Histogram(MAX_LATENCY_MICROS, 3);
    Histogram corrected = new Histogram(MAX_LATENCY_MICROS, 3);
    raws.forEach(raw::add);
    correcteds.forEach(corrected::add);
    double seconds = (window[1] - window[0]) / 1e9;
    return new Result(
        completed.sum(), errors.sum(), seconds, corrected, raw, state.expectedIntervalMicros);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }
}
