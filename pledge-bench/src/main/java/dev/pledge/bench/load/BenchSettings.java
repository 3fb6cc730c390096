package dev.pledge.bench.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything one benchmark run needs, checked when built.
 *
 * @param databases which databases to run on, in order
 * @param workloads which workloads, in order
 * @param concurrency closed-loop clients, for every workload and baseline
 * @param peakConcurrency clients of one more saga-2 run through Pledge alone, to see group commit
 *     at peak load (0: skip it)
 * @param warmup the unmeasured lead-in of every measurement
 * @param measure the measured window of every measurement
 * @param park how many tcc transactions to park for the heap measurement (0: skip it)
 * @param out the folder the report, the chart and the server logs go to
 * @param pgAdminUrl a JDBC URL of PostgreSQL's maintenance database, ending in the database name
 * @param pgUser the PostgreSQL user
 * @param pgPassword its password, or null
 * @param serverClasspath the classpath the coordinator process runs with
 * @param serverMain its main class
 * @param serverJvmOptions JVM options of the coordinator process
 * @param peers peers measured beside saga-2 (only {@code dbos}, on PostgreSQL); empty: none
 * @param recovery saga-2 transactions held in flight when the coordinator is killed with -9 and
 *     restarted, for the recovery measurement (0: skip it)
 */
record BenchSettings(
    List<DbKind> databases,
    List<Workload> workloads,
    int concurrency,
    int peakConcurrency,
    Duration warmup,
    Duration measure,
    int park,
    Path out,
    String pgAdminUrl,
    String pgUser,
    String pgPassword,
    String serverClasspath,
    String serverMain,
    List<String> serverJvmOptions,
    List<String> peers,
    int recovery) {

  static final List<String> KNOWN_PEERS = List.of("dbos");

  BenchSettings {
    if (databases.isEmpty()) {
      throw new IllegalArgumentException("databases must not be empty");
    }
    if (workloads.isEmpty()) {
      throw new IllegalArgumentException("workloads must not be empty");
    }
    if (concurrency < 1 || concurrency > 256) {
      throw new IllegalArgumentException("concurrency must be in [1, 256], got " + concurrency);
    }
    if (peakConcurrency < 0 || peakConcurrency > 1024) {
      throw new IllegalArgumentException(
          "peakConcurrency must be in [0, 1024], got " + peakConcurrency);
    }
    if (warmup.isNegative() || warmup.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException("warmup must be in [0, 10 min], got " + warmup);
    }
    if (measure.compareTo(Duration.ofMillis(500)) < 0
        || measure.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("measure must be in [0.5 s, 1 h], got " + measure);
    }
    if (park < 0 || park > 10_000_000) {
      throw new IllegalArgumentException("park must be in [0, 10000000], got " + park);
    }
    if (!pgAdminUrl.startsWith("jdbc:postgresql://") || pgAdminUrl.indexOf('/', 18) < 0) {
      throw new IllegalArgumentException(
          "pgAdminUrl must look like jdbc:postgresql://host:port/postgres, got '"
              + pgAdminUrl
              + "'");
    }
    for (String peer : peers) {
      if (!KNOWN_PEERS.contains(peer)) {
        throw new IllegalArgumentException("peers must be among " + KNOWN_PEERS + ", got " + peer);
      }
    }
    if (recovery < 0 || recovery > 100_000) {
      throw new IllegalArgumentException("recovery must be in [0, 100000], got " + recovery);
    }
    peers = List.copyOf(peers);
    databases = List.copyOf(databases);
    workloads = List.copyOf(workloads);
    serverJvmOptions = List.copyOf(serverJvmOptions);
  }

  /** The URL of another database on the same PostgreSQL server. */
  String pgUrl(String database) {
    int slash = pgAdminUrl.indexOf('/', "jdbc:postgresql://".length());
    int query = pgAdminUrl.indexOf('?', slash);
    return pgAdminUrl.substring(0, slash + 1)
        + database
        + (query < 0 ? "" : pgAdminUrl.substring(query));
  }
}
