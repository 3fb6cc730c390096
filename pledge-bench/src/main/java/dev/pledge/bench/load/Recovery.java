package dev.pledge.bench.load;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Recovery time: {@code n} saga-2 transactions created and kept in flight (the participants hold
 * their first op's answer, so each has a call outstanding), the coordinator killed with {@code kill
 * -9}, then started again at once on the same log and port. Measures, from the restart's launch:
 * when it prints that it listens, when the first new transaction is accepted (a prober sends
 * creates from the moment of the launch), when the participants have committed the last action of
 * the old transactions, and when the last old one is seen final through the API.
 *
 * <p>The held requests are answered 503 once the old coordinator is dead (their connections are
 * gone anyway); the new coordinator must find the transactions in the log and call again.
 */
final class Recovery {
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
  static final Duration HOLD_WAIT = Duration.ofSeconds(60);

  /** The wait for held calls ends early when their number has not grown for this long. */
  static final Duration HOLD_STALL = Duration.ofSeconds(3);

  /**
   * How long creating the held transactions may take. Past it, creating stops and the measurement
   * goes on with those created (the result says how many of those asked): on a loaded machine each
   * held create costs the participants a new connection, and 10,000 took longer than a bench run
   * can wait.
   */
  static final Duration CREATE_BUDGET = Duration.ofSeconds(120);

  /** How long the restarted coordinator may take to recover the log and listen. */
  static final Duration RESTART_TIMEOUT = Duration.ofMinutes(20);

  static final Duration FINAL_WAIT = Duration.ofMinutes(5);

  /** The held transactions' own timeout: long, so that none is aborted while the bench waits. */
  static final int HELD_TIMEOUT_SECONDS = 3600;

  private static final int CHECKERS = 8;

  private Recovery() {}

  /**
   * @param start starts a coordinator on a given port (or a free one when 0) on the log the
   *     previous one used, and names it in the progress output
   */
  static RecoveryResult measure(
      DbKind kind,
      int n,
      int concurrency,
      String prefix,
      ServerProcess server,
      Drivers drivers,
      Participants participants,
      Function<Integer, ServerProcess> restart,
      PrintStream progress) {
    String loadBefore = BenchCommand.loadAverage();
    String held = prefix + "-held-";
    participants.hold(held);
    List<String> gids = new ArrayList<>(n);
    List<CompletableFuture<Void>> actions = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String gid = held + i;
      gids.add(gid);
      actions.add(participants.expect(gid, "action", Workload.SAGA_2.branches));
    }
    progress.printf(
        "[%s] recovery: creating %d saga-2 transactions, held in flight%n", kind.code, n);
    long submitStart = System.nanoTime();
    long createDeadline = submitStart + CREATE_BUDGET.toNanos();
    AtomicInteger next = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < concurrency; c++) {
        clients.submit(() -> {
          int i;
          // The budget is checked before an index is taken, so every index taken is created.
          while (failures.size() < 10
              && System.nanoTime() < createDeadline
              && (i = next.getAndIncrement()) < n) {
            try {
              drivers.create(Workload.SAGA_2, gids.get(i), HELD_TIMEOUT_SECONDS);
            } catch (BenchException e) {
              failures.add(e.getMessage());
            }
          }
        });
      }
    }
    if (!failures.isEmpty()) {
      participants.release();
      throw new BenchException("recovery: creating failed: " + failures.peek());
    }
    double submitSeconds = (System.nanoTime() - submitStart) / 1e9;
    int created = Math.min(next.get(), n);
    // Waits until every created one has a call held at a participant, or until their number stops
    // growing: the coordinator keeps a bounded number of participant connections (HttpEffects), so
    // past it the rest wait in the coordinator, in flight all the same.
    long holdDeadline = System.nanoTime() + HOLD_WAIT.toNanos();
    int lastHeld = -1;
    long lastGrowth = System.nanoTime();
    while (participants.heldTransactions() < created && System.nanoTime() < holdDeadline) {
      int nowHeld = participants.heldTransactions();
      if (nowHeld != lastHeld) {
        lastHeld = nowHeld;
        lastGrowth = System.nanoTime();
      } else if (System.nanoTime() - lastGrowth > HOLD_STALL.toNanos()) {
        break;
      }
      pause(20);
    }
    int heldAtKill = participants.heldTransactions();
    int port = server.port();
    progress.printf(
        "[%s] recovery: %d of %d created in %.1f s%s, %d held at a participant; kill -9 pid %d%n",
        kind.code,
        created,
        n,
        submitSeconds,
        created < n ? " (the creating budget of " + CREATE_BUDGET.toSeconds() + " s ran out)" : "",
        heldAtKill,
        server.pid());
    server.kill9();
    participants.release();

    // The prober: tries to create a new transaction from the moment of the launch until one is
    // accepted.
    AtomicLong acceptedAt = new AtomicLong(-1);
    AtomicInteger attempts = new AtomicInteger();
    // What the probes were answered (-1: no connection, 0: no answer within the probe's timeout),
    // and when the first answer of any status came: says whether the time after the listening line
    // went to refusals or to slow answers.
    java.util.Map<Integer, Integer> statuses = new java.util.concurrent.ConcurrentSkipListMap<>();
    AtomicLong firstAnswerAt = new AtomicLong(-1);
    long launch = System.nanoTime();
    Thread prober =
        Thread.ofVirtual()
            .name("recovery-prober")
            .start(() -> {
              long deadline = launch + TimeUnit.MINUTES.toNanos(2);
              while (System.nanoTime() < deadline) {
                int status =
                    drivers.tryCreate(
                        Workload.SAGA_2,
                        prefix + "-probe-" + attempts.incrementAndGet(),
                        PROBE_TIMEOUT);
                statuses.merge(status, 1, Integer::sum);
                if (status > 0) {
                  firstAnswerAt.compareAndSet(-1, System.nanoTime());
                }
                if (status == 201) {
                  acceptedAt.set(System.nanoTime());
                  return;
                }
                pause(status < 0 ? 2 : 10);
              }
            });
    try (ServerProcess again = restart.apply(port)) {
      double readySeconds = (System.nanoTime() - launch) / 1e9;
      progress.printf(
          "[%s] recovery: restarted as pid %d, listening after %.2f s%n",
          kind.code, again.pid(), readySeconds);
      try {
        prober.join(Duration.ofMinutes(2));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BenchException("interrupted", e);
      }
      double firstAccepted = acceptedAt.get() < 0 ? Double.NaN : (acceptedAt.get() - launch) / 1e9;
      progress.printf(
          "[%s] recovery: first probe answered %.2f s after the launch; probe statuses %s%n",
          kind.code,
          firstAnswerAt.get() < 0 ? Double.NaN : (firstAnswerAt.get() - launch) / 1e9,
          statuses);

      // The participants say when an old transaction's actions are committed; the API says when it
      // is final. Checkers walk the old transactions in order, each GET repeated until final, so
      // the last one seen final is a little late by the checkers' own pace (one GET each, mostly).
      AtomicLong lastAction = new AtomicLong(launch);
      actions.forEach(
          f -> f.thenRun(() -> lastAction.accumulateAndGet(System.nanoTime(), Math::max)));
      AtomicLong lastFinal = new AtomicLong(launch);
      LongAdder finals = new LongAdder();
      long finalDeadline = launch + FINAL_WAIT.toNanos();
      AtomicInteger taken = new AtomicInteger();
      try (ExecutorService checkers = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int c = 0; c < CHECKERS; c++) {
          checkers.submit(() -> {
            int i;
            while ((i = taken.getAndIncrement()) < created) {
              String gid = gids.get(i);
              while (System.nanoTime() < finalDeadline) {
                String state;
                try {
                  state = drivers.state(gid);
                } catch (BenchException e) {
                  state = "";
                }
                if (state.contains("\"final\":true")) {
                  if (state.contains("\"status\":\"committed\"")) {
                    finals.increment();
                    lastFinal.accumulateAndGet(System.nanoTime(), Math::max);
                  }
                  break;
                }
                pause(20);
              }
            }
          });
        }
      }
      long notFinal = created - finals.sum();
      gids.forEach(participants::forget);
      RecoveryResult result =
          new RecoveryResult(
              kind,
              n,
              created,
              heldAtKill,
              submitSeconds,
              readySeconds,
              firstAccepted,
              attempts.get(),
              (lastAction.get() - launch) / 1e9,
              (lastFinal.get() - launch) / 1e9,
              notFinal,
              loadBefore,
              BenchCommand.loadAverage());
      progress.printf(
          "[%s] recovery: first new transaction accepted %.2f s after the launch (%d tries); last"
              + " old action %.2f s, last old one final %.2f s; %d not final%n",
          kind.code,
          result.firstAcceptedSeconds(),
          result.probeAttempts(),
          result.actionsDoneSeconds(),
          result.allFinalSeconds(),
          notFinal);
      return result;
    }
  }

  private static void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }
}
