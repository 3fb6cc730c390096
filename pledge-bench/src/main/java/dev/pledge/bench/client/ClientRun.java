package dev.pledge.bench.client;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * One candidate client in a JVM of its own: keeps {@code inFlight} calls to the stub outstanding
 * (each completion starts the next call), warms up, then measures a window. Prints one
 * tab-separated result line: client, calls, seconds, calls/s, CPU µs per call (this process, user +
 * system, every thread: the client's I/O threads, GC and JIT included), p50, p99, p99.9 ms, errors.
 *
 * <p>Run: {@code java -cp CLASSPATH dev.pledge.bench.client.ClientRun CLIENT URL IN_FLIGHT
 * WARMUP_SECONDS SECONDS}
 */
public final class ClientRun {
  private static final String PAYLOAD = "{\"order\":\"%s\",\"line\":1,\"amount\":100}";

  private final ParticipantClient client;
  private final String url;
  private final AtomicLong ids = new AtomicLong();
  private final LongAdder calls = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final Recorder latency = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
  private volatile boolean stop;
  private final CountDownLatch stopped;

  private ClientRun(ParticipantClient client, String url, int inFlight) {
    this.client = client;
    this.url = url;
    this.stopped = new CountDownLatch(inFlight);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      throw new IllegalArgumentException("usage: CLIENT URL IN_FLIGHT WARMUP_SECONDS SECONDS");
    }
    String name = args[0];
    int inFlight = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int seconds = Integer.parseInt(args[4]);
    if (inFlight < 1 || inFlight > 10_000) {
      throw new IllegalArgumentException("IN_FLIGHT must be in [1, 10000], got " + inFlight);
    }
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (ParticipantClient client = ParticipantClient.create(name, inFlight)) {
      ClientRun run = new ClientRun(client, args[1], inFlight);
      for (int i = 0; i < inFlight; i++) {
        run.next();
      }
      TimeUnit.SECONDS.sleep(warmup);
      run.latency.reset();
      long callsBefore = run.calls.sum();
      long errorsBefore = run.errors.sum();
      long cpuBefore = os.getProcessCpuTime();
      long start = System.nanoTime();
      TimeUnit.SECONDS.sleep(seconds);
      long cpu = os.getProcessCpuTime() - cpuBefore;
      double elapsed = (System.nanoTime() - start) / 1e9;
      long done = run.calls.sum() - callsBefore;
      long failed = run.errors.sum() - errorsBefore;
      var histogram = run.latency.getIntervalHistogram();
      run.stop = true;
      run.stopped.await(60, TimeUnit.SECONDS);
      System.out.printf(
          Locale.ROOT,
          "%s\t%d\t%.2f\t%.0f\t%.2f\t%.3f\t%.3f\t%.3f\t%d%n",
          name,
          done,
          elapsed,
          done / elapsed,
          cpu / 1000.0 / Math.max(1, done),
          histogram.getValueAtPercentile(50) / 1000.0,
          histogram.getValueAtPercentile(99) / 1000.0,
          histogram.getValueAtPercentile(99.9) / 1000.0,
          failed);
    }
    System.exit(0);
  }

  private void next() {
    if (stop) {
      stopped.countDown();
      return;
    }
    String gid = "gid-" + ids.incrementAndGet();
    long start = System.nanoTime();
    client
        .post(url, gid, "b1", String.format(Locale.ROOT, PAYLOAD, gid))
        .whenComplete((status, error) -> {
          latency.recordValue(Math.min((System.nanoTime() - start) / 1000, 60_000_000));
          if (error != null || status != 200) {
            errors.increment();
          } else {
            calls.increment();
          }
          next();
        });
  }
}
