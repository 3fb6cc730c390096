package dev.pledge.bench.load;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The run's results as Markdown (the report) and CSV (for other tools). */
final class Report {
  // The targets of issue 7 ("one runtime").
  static final double SAGA_TARGET_RATIO = 0.6;
  static final double PEER_TARGET_RATIO = 1.0;
  static final double CPU_TARGET_MICROS = 300;
  static final double RECORDS_PER_COMMIT_TARGET = 10;
  static final double HEAP_TARGET_BYTES = 1024;
  static final double FIRST_ACCEPTED_TARGET_SECONDS = 1.0;

  private Report() {}

  static Optional<Row> find(List<Row> rows, DbKind db, String workload, String system) {
    return rows.stream()
        .filter(r -> r.db() == db && r.workload().equals(workload) && r.system().equals(system))
        .findFirst();
  }

  static String markdown(
      String title,
      String command,
      List<String> machine,
      BenchSettings settings,
      List<BenchRun> runs) {
    StringBuilder md = new StringBuilder();
    md.append("# ").append(title).append("\n\n");
    md.append("Command:\n\n```\n").append(command).append("\n```\n\n");
    md.append("Machine and settings:\n\n");
    for (String line : machine) {
      md.append("- ").append(line).append('\n');
    }
    md.append(
            String.format(
                Locale.ROOT,
                "- closed loop, %d clients; every measurement: %d s warm-up, then %d s measured%n",
                settings.concurrency(),
                settings.warmup().toSeconds(),
                settings.measure().toSeconds()))
        .append("- coordinator JVM options: ")
        .append(
            settings.serverJvmOptions().isEmpty()
                ? "(none)"
                : "`" + String.join(" ", settings.serverJvmOptions()) + "`")
        .append("\n\n");
    md.append(
        """
        Columns: **gtx/s** global transactions per second (R1: commits per second); **p50, p99**
        latency from the first request to the final state (msg: to delivery), HdrHistogram
        corrected for coordinated omission (p99 raw: as measured); **÷ R1, ÷ B0** Pledge's gtx/s
        divided by R1's commits/s and by the same work's gtx/s without Pledge; **coord. CPU**
        coordinator process CPU (user + system, from /proc) per global transaction, then the part
        in GC and JIT-compiler threads, and in the log writer's thread (JDBC writes included);
        **records/commit** `pledge_log_records_total` ÷ `pledge_log_commits_total` over the window;
        **polls** GETs per transaction to see it final; **bench CPU** the load generator's and
        participants' process per transaction.

        """);
    for (BenchRun run : runs) {
      DbKind db = run.rows.isEmpty() ? null : run.rows.get(0).db();
      if (db == null) {
        continue;
      }
      Row r1 = find(run.rows, db, Row.R1, Row.R1).orElse(null);
      md.append("## ").append(db.label).append("\n\n");
      if (r1 != null) {
        md.append(
            String.format(
                Locale.ROOT,
                "R1, single-row INSERT + COMMIT: **%,.0f commits/s**, p50 %.2f ms, p99 %.2f ms (%d"
                    + " errors)%n%n",
                r1.perSecond(),
                r1.p50Millis(),
                r1.p99Millis(),
                r1.errors()));
      }
      md.append(
          "| workload | gtx/s | p50 ms | p99 ms | p99 raw ms | ÷ R1 | B0 gtx/s | B0 p99 ms | ÷ B0"
              + " | coord. CPU µs/gtx | of which GC / JIT / log writer | records/commit | polls |"
              + " bench CPU µs/gtx | errors |\n");
      md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Row p : run.rows) {
        if (!p.system().equals(Row.PLEDGE)) {
          continue;
        }
        Row b0 = find(run.rows, db, p.workload(), Row.B0).orElse(null);
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %,.0f | %.2f | %.2f | %.2f | %s | %s | %s | %s | %.0f | %.0f / %.0f / %.0f |"
                    + " %s | %.2f | %.0f | %d%s |%n",
                p.workload(),
                p.perSecond(),
                p.p50Millis(),
                p.p99Millis(),
                p.p99RawMillis(),
                r1 == null ? "–" : fmt2(p.perSecond() / r1.perSecond()),
                b0 == null ? "–" : String.format(Locale.ROOT, "%,.0f", b0.perSecond()),
                b0 == null ? "–" : String.format(Locale.ROOT, "%.2f", b0.p99Millis()),
                b0 == null ? "–" : fmt2(p.perSecond() / b0.perSecond()),
                p.coordinatorCpuMicros(),
                p.cpuMicrosByGroup().getOrDefault(ProcCpu.Group.GC, 0.0),
                p.cpuMicrosByGroup().getOrDefault(ProcCpu.Group.JIT, 0.0),
                p.cpuMicrosByGroup().getOrDefault(ProcCpu.Group.LOG_WRITER, 0.0),
                Double.isNaN(p.logRecordsPerCommit()) ? "n/a" : fmt2(p.logRecordsPerCommit()),
                p.pollsPerGtx(),
                p.benchCpuMicros(),
                p.errors(),
                b0 != null && b0.errors() > 0 ? " (B0 " + b0.errors() + ")" : ""));
      }
      md.append('\n');
      peers(md, run, db);
      if (run.recovery != null) {
        RecoveryResult r = run.recovery;
        md.append(
            String.format(
                Locale.ROOT,
                "Recovery: %,d saga-2 transactions created in %.1f s%s and held in flight (%,d with a"
                    + " participant call held open), the coordinator killed with -9 and started"
                    + " again at once. From the restart's launch: listening after **%.2f s**, first"
                    + " new transaction accepted after **%.2f s** (%d tries), last old action"
                    + " committed by its participant after %.2f s, last old transaction final"
                    + " after **%.2f s**; %d old ones not seen final. Load average %s before, %s"
                    + " after.%n%n",
                r.inFlight(),
                r.submitSeconds(),
                r.inFlight() < r.asked()
                    ? String.format(
                        Locale.ROOT,
                        " (of %,d asked: creating stopped at its %d s budget)",
                        r.asked(),
                        Recovery.CREATE_BUDGET.toSeconds())
                    : "",
                r.heldAtKill(),
                r.readySeconds(),
                r.firstAcceptedSeconds(),
                r.probeAttempts(),
                r.actionsDoneSeconds(),
                r.allFinalSeconds(),
                r.notFinal(),
                r.loadBefore(),
                r.loadAfter()));
      }
      if (run.heap != null) {
        HeapResult h = run.heap;
        md.append(
            String.format(
                Locale.ROOT,
                "Heap: %,d tcc transactions parked (begun, %d s timeout) in %.1f s; live heap after a"
                    + " full GC %,d → %,d bytes: **%,.0f bytes per parked transaction**; %s.%n%n",
                h.parked(),
                BenchRun.PARK_TIMEOUT_SECONDS,
                h.parkSeconds(),
                h.liveBytesBefore(),
                h.liveBytesAfter(),
                h.bytesPerTransaction(),
                h.ownedAdded() < 0
                    ? "the coordinator does not report how many it holds in memory"
                    : String.format(
                        Locale.ROOT,
                        "the coordinator held %,d → %,d transactions in memory"
                            + " (`%s`): %,d of the %,d parked are owned in memory",
                        h.ownedBefore(),
                        h.ownedAfter(),
                        BenchRun.OWNED_GAUGE,
                        h.ownedAdded(),
                        h.parked())));
      }
      for (String note : run.notes) {
        md.append("- ").append(note).append('\n');
      }
      if (!run.notes.isEmpty()) {
        md.append('\n');
      }
    }
    md.append("## Targets\n\n");
    md.append("| target | measured | met |\n|---|---|---|\n");
    for (BenchRun run : runs) {
      if (run.rows.isEmpty()) {
        continue;
      }
      DbKind db = run.rows.get(0).db();
      Optional<Row> saga = find(run.rows, db, Workload.SAGA_2.label, Row.PLEDGE);
      Optional<Row> sagaB0 = find(run.rows, db, Workload.SAGA_2.label, Row.B0);
      Optional<Row> sagaDbos = find(run.rows, db, Workload.SAGA_2.label, DbosPeer.LABEL);
      if (saga.isPresent() && sagaDbos.isPresent()) {
        double ratio = saga.get().perSecond() / sagaDbos.get().perSecond();
        md.append(
            String.format(
                Locale.ROOT,
                "| %s: saga-2 ≥ %.1f × DBOS Transact | %.2f × DBOS (%,.0f vs %,.0f gtx/s) | %s |%n",
                db.label,
                PEER_TARGET_RATIO,
                ratio,
                saga.get().perSecond(),
                sagaDbos.get().perSecond(),
                yes(ratio >= PEER_TARGET_RATIO)));
      }
      saga.ifPresent(r ->
          md.append(
              String.format(
                  Locale.ROOT,
                  "| %s: coordinator CPU per saga-2 ≤ %.0f µs | %.0f µs | %s |%n",
                  db.label,
                  CPU_TARGET_MICROS,
                  r.coordinatorCpuMicros(),
                  yes(r.coordinatorCpuMicros() <= CPU_TARGET_MICROS))));
      find(run.rows, db, BenchRun.peakLabel(settings.peakConcurrency()), Row.PLEDGE)
          .filter(r -> !Double.isNaN(r.logRecordsPerCommit()))
          .ifPresent(r ->
              md.append(
                  String.format(
                      Locale.ROOT,
                      "| %s: ≥ %.0f log records per database commit, saga-2 at %d clients | %.2f |"
                          + " %s |%n",
                      db.label,
                      RECORDS_PER_COMMIT_TARGET,
                      settings.peakConcurrency(),
                      r.logRecordsPerCommit(),
                      yes(r.logRecordsPerCommit() >= RECORDS_PER_COMMIT_TARGET))));
      if (run.recovery != null) {
        RecoveryResult r = run.recovery;
        md.append(
            String.format(
                Locale.ROOT,
                "| %s: first new transaction accepted ≤ %.0f s after kill -9 with %,d in flight |"
                    + " %.2f s from the restart's launch (all old ones final after %.2f s) | %s"
                    + " |%n",
                db.label,
                FIRST_ACCEPTED_TARGET_SECONDS,
                r.inFlight(),
                r.firstAcceptedSeconds(),
                r.allFinalSeconds(),
                yes(r.firstAcceptedSeconds() <= FIRST_ACCEPTED_TARGET_SECONDS)));
      }
      if (saga.isPresent() && sagaB0.isPresent()) {
        double ratio = saga.get().perSecond() / sagaB0.get().perSecond();
        md.append(
            String.format(
                Locale.ROOT,
                "| %s: saga-2 ≥ %.1f × B0%s | %.2f × B0 | %s |%n",
                db.label,
                SAGA_TARGET_RATIO,
                db == DbKind.POSTGRES ? "" : " (set for PostgreSQL)",
                ratio,
                yes(ratio >= SAGA_TARGET_RATIO)));
      }
      double worstCpu = 0;
      double worstCpuLessWriter = 0;
      double bestRecords = Double.NaN;
      for (Row r : run.rows) {
        if (r.system().equals(Row.PLEDGE)) {
          worstCpu = Math.max(worstCpu, r.coordinatorCpuMicros());
          worstCpuLessWriter =
              Math.max(
                  worstCpuLessWriter,
                  r.coordinatorCpuMicros()
                      - r.cpuMicrosByGroup().getOrDefault(ProcCpu.Group.LOG_WRITER, 0.0));
          if (!Double.isNaN(r.logRecordsPerCommit())
              && (Double.isNaN(bestRecords) || r.logRecordsPerCommit() > bestRecords)) {
            bestRecords = r.logRecordsPerCommit();
          }
        }
      }
      md.append(
          String.format(
              Locale.ROOT,
              "| %s: coordinator CPU ≤ %.0f µs per gtx, every workload | worst workload %.0f µs"
                  + " in all, %.0f µs without the log writer's thread | %s |%n",
              db.label,
              CPU_TARGET_MICROS,
              worstCpu,
              worstCpuLessWriter,
              yes(worstCpu <= CPU_TARGET_MICROS)));
      md.append(
          String.format(
              Locale.ROOT,
              "| %s: ≥ %.0f log records per database commit, any workload | best workload %s | %s"
                  + " |%n",
              db.label,
              RECORDS_PER_COMMIT_TARGET,
              Double.isNaN(bestRecords) ? "n/a (no log counters)" : fmt2(bestRecords),
              Double.isNaN(bestRecords)
                  ? "unknown"
                  : yes(bestRecords >= RECORDS_PER_COMMIT_TARGET)));
      if (run.heap != null) {
        md.append(
            String.format(
                Locale.ROOT,
                "| %s: ≤ 1 KiB heap per in-flight transaction | %,.0f bytes | %s |%n",
                db.label,
                run.heap.bytesPerTransaction(),
                yes(run.heap.bytesPerTransaction() <= HEAP_TARGET_BYTES)));
      }
    }
    md.append("\n![throughput](chart.png)\n");
    return md.toString();
  }

  /** Peers beside Pledge (DBOS Transact): their rows, and Pledge ÷ peer beside Pledge ÷ B0. */
  private static void peers(StringBuilder md, BenchRun run, DbKind db) {
    List<Row> peers = run.rows.stream().filter(r -> r.system().equals(DbosPeer.LABEL)).toList();
    if (peers.isEmpty()) {
      return;
    }
    md.append(
        "Peers, same participants, same concurrency, same database (the peer runs inside the bench"
            + " process, so its CPU is in *bench CPU*; B0's bench CPU is the clients' and"
            + " participants' share):\n\n");
    md.append(
        "| workload | peer | peer gtx/s | peer p50 ms | peer p99 ms | Pledge gtx/s | Pledge ÷ peer |"
            + " Pledge ÷ B0 | peer bench CPU µs/gtx | B0 bench CPU µs/gtx | peer errors |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row peer : peers) {
      Row pledge = find(run.rows, db, peer.workload(), Row.PLEDGE).orElse(null);
      Row b0 = find(run.rows, db, peer.workload(), Row.B0).orElse(null);
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %,.0f | %.2f | %.2f | %s | %s | %s | %.0f | %s | %d |%n",
              peer.workload(),
              peer.system(),
              peer.perSecond(),
              peer.p50Millis(),
              peer.p99Millis(),
              pledge == null ? "–" : String.format(Locale.ROOT, "%,.0f", pledge.perSecond()),
              pledge == null ? "–" : fmt2(pledge.perSecond() / peer.perSecond()),
              pledge == null || b0 == null ? "–" : fmt2(pledge.perSecond() / b0.perSecond()),
              peer.benchCpuMicros(),
              b0 == null ? "–" : String.format(Locale.ROOT, "%.0f", b0.benchCpuMicros()),
              peer.errors()));
    }
    md.append('\n');
  }

  static String csv(List<BenchRun> runs) {
    StringBuilder csv =
        new StringBuilder(
            "db,workload,system,per_second,completed,errors,p50_ms,p99_ms,p99_raw_ms,"
                + "coordinator_cpu_us,gc_us,jit_us,log_writer_us,log_records_per_commit,"
                + "polls_per_gtx,bench_cpu_us\n");
    for (BenchRun run : runs) {
      for (Row r : run.rows) {
        csv.append(
            String.format(
                Locale.ROOT,
                "%s,%s,%s,%.2f,%d,%d,%.3f,%.3f,%.3f,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.1f%n",
                r.db().code,
                r.workload(),
                r.system(),
                r.perSecond(),
                r.completed(),
                r.errors(),
                r.p50Millis(),
                r.p99Millis(),
                r.p99RawMillis(),
                r.coordinatorCpuMicros(),
                r.cpuMicrosByGroup().getOrDefault(ProcCpu.Group.GC, Double.NaN),
                r.cpuMicrosByGroup().getOrDefault(ProcCpu.Group.JIT, Double.NaN),
                r.cpuMicrosByGroup().getOrDefault(ProcCpu.Group.LOG_WRITER, Double.NaN),
                r.logRecordsPerCommit(),
                r.pollsPerGtx(),
                r.benchCpuMicros()));
      }
      if (run.heap != null) {
        HeapResult h = run.heap;
        csv.append(
            String.format(
                Locale.ROOT,
                "%s,heap,pledge,%.1f,%d,0,,,,,,,,,,%n",
                h.db().code,
                h.bytesPerTransaction(),
                h.parked()));
      }
      if (run.recovery != null) {
        RecoveryResult r = run.recovery;
        csv.append(
            String.format(
                Locale.ROOT,
                "%s,recovery-first-accepted-s,pledge,%.3f,%d,%d,,,,,,,,,,%n"
                    + "%s,recovery-all-final-s,pledge,%.3f,%d,%d,,,,,,,,,,%n",
                r.db().code,
                r.firstAcceptedSeconds(),
                r.inFlight(),
                r.notFinal(),
                r.db().code,
                r.allFinalSeconds(),
                r.inFlight(),
                r.notFinal()));
      }
    }
    return csv.toString();
  }

  private static String fmt2(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String yes(boolean met) {
    return met ? "yes" : "**no**";
  }
}
