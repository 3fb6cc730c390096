package dev.pledge.bench.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Compares the candidate participant clients ({@link ParticipantClient}): starts the stub
 * participant ({@link ParticipantStub}) as one process, then every candidate in turn as a process
 * of its own ({@link ClientRun}), for several rounds (the order reversed every other round, so
 * drift in the machine's load favours no one), and prints a Markdown table of medians, with the
 * load average before and after every run. Results in docs/http-client-choice.md.
 *
 * <p>Run: {@code java -cp pledge-bench/target/benchmarks.jar
 * dev.pledge.bench.client.ClientComparison [ROUNDS] [IN_FLIGHT] [WARMUP_SECONDS] [SECONDS]
 * [CLIENTS]}, defaults 3, 1000, 5, 10, jdk,jetty,apache,reactor.
 */
public final class ClientComparison {
  private static final List<String> JVM = List.of("-Xmx1g", "-XX:+UseG1GC");

  private ClientComparison() {}

  record Result(
      String client,
      long calls,
      double perSecond,
      double cpuMicrosPerCall,
      double p50,
      double p99,
      double p999,
      long errors,
      double stubCpuMicrosPerCall,
      String loadBefore,
      String loadAfter) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int inFlight = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    List<String> clients = args.length > 4 ? List.of(args[4].split(",")) : ParticipantClient.NAMES;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    int port = freePort();
    List<String> stubCommand = new ArrayList<>(List.of(java));
    stubCommand.addAll(JVM);
    stubCommand.addAll(List.of("-cp", classpath, ParticipantStub.class.getName(), "" + port));
    Process stub = new ProcessBuilder(stubCommand).redirectErrorStream(true).start();
    try {
      BufferedReader stubOut =
          new BufferedReader(new InputStreamReader(stub.getInputStream(), StandardCharsets.UTF_8));
      String line;
      do {
        line = stubOut.readLine();
      } while (line != null && !line.startsWith("stub ready"));
      if (line == null) {
        throw new IllegalStateException("the stub ended before it was ready");
      }
      Thread.ofPlatform().daemon().start(() -> drain(stubOut));
      String url = "http://127.0.0.1:" + port + "/op";
      System.err.printf(
          "%s: %d rounds, %d in flight, %d s warm-up, %d s measured, clients %s%n",
          Instant.now(), rounds, inFlight, warmup, seconds, clients);
      List<Result> results = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        List<String> order = new ArrayList<>(clients);
        if (round % 2 == 0) {
          Collections.reverse(order);
        }
        for (String client : order) {
          Result r = runOne(java, classpath, client, url, inFlight, warmup, seconds, stub.pid());
          results.add(r);
          System.err.println("round " + round + ": " + r);
        }
      }
      System.out.println(table(results, clients, rounds, inFlight, warmup, seconds));
    } finally {
      stub.destroy();
      stub.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static Result runOne(
      String java,
      String classpath,
      String client,
      String url,
      int inFlight,
      int warmup,
      int seconds,
      long stubPid)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(JVM);
    command.addAll(
        List.of(
            "-cp",
            classpath,
            ClientRun.class.getName(),
            client,
            url,
            "" + inFlight,
            "" + warmup,
            "" + seconds));
    String loadBefore = loadAverage();
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    // The stub's CPU over the same window: from /proc, sampled around the child's measured window.
    TimeUnit.SECONDS.sleep(warmup);
    long stubBefore = procCpuNanos(stubPid);
    long windowStart = System.nanoTime();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    long stubNanos = procCpuNanos(stubPid) - stubBefore;
    double windowSeconds = (System.nanoTime() - windowStart) / 1e9;
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || out.isEmpty()) {
      throw new IllegalStateException(client + " failed: " + out);
    }
    String[] f = out.lines().reduce((a, b) -> b).orElseThrow().split("\t");
    long calls = Long.parseLong(f[1]);
    double perSecond = Double.parseDouble(f[3]);
    return new Result(
        f[0],
        calls,
        perSecond,
        Double.parseDouble(f[4]),
        Double.parseDouble(f[5]),
        Double.parseDouble(f[6]),
        Double.parseDouble(f[7]),
        Long.parseLong(f[8]),
        stubNanos / 1000.0 / Math.max(1, perSecond * windowSeconds),
        loadBefore,
        loadAverage());
  }

  static String table(
      List<Result> results,
      List<String> clients,
      int rounds,
      int inFlight,
      int warmup,
      int seconds) {
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            Locale.ROOT,
            "%d rounds, %d calls in flight, %d s warm-up, %d s measured per run; medians over the"
                + " rounds (each round's value in brackets)%n%n",
            rounds,
            inFlight,
            warmup,
            seconds));
    md.append(
        "| client | calls/s | client CPU µs/call | p50 ms | p99 ms | p99.9 ms | errors | stub CPU"
            + " µs/call (approx.) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    Map<String, List<Result>> by = new LinkedHashMap<>();
    clients.forEach(c -> by.put(c, new ArrayList<>()));
    results.forEach(r -> by.get(r.client()).add(r));
    for (var e : by.entrySet()) {
      List<Result> rs = e.getValue();
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %d | %s |%n",
              e.getKey(),
              cell(rs, Result::perSecond, "%,.0f"),
              cell(rs, Result::cpuMicrosPerCall, "%.1f"),
              cell(rs, Result::p50, "%.1f"),
              cell(rs, Result::p99, "%.1f"),
              cell(rs, Result::p999, "%.1f"),
              rs.stream().mapToLong(Result::errors).sum(),
              cell(rs, Result::stubCpuMicrosPerCall, "%.1f")));
    }
    md.append("\nLoad average (1, 5, 15 min) before → after each run:\n\n");
    for (Result r : results) {
      md.append("- ")
          .append(r.client())
          .append(": ")
          .append(r.loadBefore())
          .append(" → ")
          .append(r.loadAfter())
          .append('\n');
    }
    return md.toString();
  }

  private static String cell(List<Result> rs, ToDoubleFunction<Result> f, String format) {
    List<Double> values = rs.stream().map(f::applyAsDouble).toList();
    List<Double> sorted = values.stream().sorted(Comparator.naturalOrder()).toList();
    double median = sorted.get(sorted.size() / 2);
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, format, median)).append(" (");
    for (int i = 0; i < values.size(); i++) {
      s.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, format, values.get(i)));
    }
    return s.append(')').toString();
  }

  private static void drain(BufferedReader in) {
    try {
      while (in.readLine() != null) {
        // the stub's log: not needed
      }
    } catch (IOException e) {
      // the stub ended
    }
  }

  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return parts[0] + ", " + parts[1] + ", " + parts[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static long procCpuNanos(long pid) throws IOException {
    String text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
