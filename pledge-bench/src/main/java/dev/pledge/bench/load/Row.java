package dev.pledge.bench.load;

import java.util.Map;

/**
 * One measured line of the report: a workload through Pledge, its B0 baseline, or R1.
 *
 * @param db the database kind
 * @param workload a {@link Workload} label, or {@code "R1"}
 * @param system {@code pledge}, {@code B0} or {@code R1}
 * @param perSecond global transactions (R1: commits) per second in the measured window
 * @param completed how many finished in the window
 * @param errors how many failed in the window
 * @param p50Millis median latency, corrected for coordinated omission
 * @param p99Millis 99th percentile, corrected for coordinated omission
 * @param p99RawMillis 99th percentile as measured
 * @param coordinatorCpuMicros coordinator CPU per global transaction (NaN without a coordinator)
 * @param cpuMicrosByGroup that CPU split by thread group (GC, JIT, log writer, other)
 * @param logRecordsPerCommit log records per database commit of the log's writer (NaN if unknown)
 * @param pollsPerGtx GET requests per global transaction made to see it final
 * @param benchCpuMicros the bench process's CPU (clients and participants) per unit
 */
record Row(
    DbKind db,
    String workload,
    String system,
    double perSecond,
    long completed,
    long errors,
    double p50Millis,
    double p99Millis,
    double p99RawMillis,
    double coordinatorCpuMicros,
    Map<ProcCpu.Group, Double> cpuMicrosByGroup,
    double logRecordsPerCommit,
    double pollsPerGtx,
    double benchCpuMicros) {

  static final String PLEDGE = "pledge";
  static final String B0 = "B0";
  static final String R1 = "R1";
}
