package dev.pledge.server.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.server.ServerProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The coordinator as a real process, on its embedded SQLite log, on PostgreSQL, and as two
 * coordinators sharing one PostgreSQL, killed with {@code -9} twice under load (with two, each in
 * turn while the other goes on) and restarted on the same log. Participants (in this JVM) keep a
 * barrier and the ground truth of what happened to their data. Afterwards: every transaction the
 * server acknowledged exists, every one is final, no 2pc has a mixed outcome, and every saga either
 * ran every action or compensated every action that ran.
 */
class ServerCrashTest {
  private static final int TRANSACTIONS = 200;

  /**
   * Every transaction must be final this long after the last was acknowledged: its timeout (15 s)
   * plus the longest retry backoff (30 s), with room for a loaded machine.
   */
  private static final Duration FINAL_WITHIN = Duration.ofSeconds(60);

  @TempDir Path dataDir;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Map<Integer, ServerProcess> servers = new ConcurrentHashMap<>();
  private final Map<String, Truth> truths = new ConcurrentHashMap<>();
  private HttpServer participants;
  private int[] ports;
  private String services;

  /** What really happened to one branch at a participant. */
  static final class Truth {
    String forward; // null, "applied", "refused", "blocked"
    boolean undone;
    boolean committed;
    final List<String> anomalies = new ArrayList<>();
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (ServerProcess server : servers.values()) {
      server.kill();
    }
    if (participants != null) {
      participants.stop(0);
    }
  }

  private void participant(HttpExchange exchange) throws IOException {
    String gid = exchange.getRequestHeaders().getFirst("Pledge-Gid");
    String branch = exchange.getRequestHeaders().getFirst("Pledge-Branch");
    String op = exchange.getRequestHeaders().getFirst("Pledge-Op");
    exchange.getRequestBody().readAllBytes();
    int status;
    Truth truth = truths.computeIfAbsent(gid + "/" + branch, k -> new Truth());
    synchronized (truth) {
      status =
          switch (op) {
            case "action", "prepare" -> {
              if (truth.undone) {
                truth.forward = truth.forward == null ? "blocked" : truth.forward;
                yield 409;
              }
              if (truth.forward == null) {
                // A business "no" for about one branch in twelve, the same on every retry.
                truth.forward =
                    Math.floorMod((gid + branch).hashCode(), 12) == 0 ? "refused" : "applied";
              }
              yield truth.forward.equals("applied") ? 200 : 409;
            }
            case "compensate", "rollback" -> {
              if (truth.committed) {
                truth.anomalies.add(op + " after commit");
              }
              truth.undone = true;
              yield 200;
            }
            case "commit" -> {
              if (!"applied".equals(truth.forward) || truth.undone) {
                truth.anomalies.add(
                    "commit of a branch whose prepare was "
                        + truth.forward
                        + (truth.undone ? " and rolled back" : ""));
              }
              truth.committed = true;
              yield 200;
            }
            default -> 400;
          };
    }
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  /** Starts coordinator {@code k} on its port, on the shared log, and waits until it listens. */
  private void startServer(int k) throws IOException {
    servers.put(
        k,
        ServerProcess.start(ports[k], dataDir, database, dataDir.resolve("server-" + k + ".log")));
  }

  private String body(int i) {
    String gid = "crash-" + i;
    if (i % 2 == 0) {
      return """
      {"gid": "%1$s", "mode": "saga", "timeoutSeconds": 15, "branches": [
        {"action": "%2$s/op", "compensate": "%2$s/op"},
        {"action": "%2$s/op", "compensate": "%2$s/op"},
        {"action": "%2$s/op", "compensate": "%2$s/op"}]}
      """
          .formatted(gid, services);
    }
    return """
    {"gid": "%1$s", "mode": "2pc", "timeoutSeconds": 15, "branches": [
      {"prepare": "%2$s/op", "commit": "%2$s/op", "rollback": "%2$s/op"},
      {"prepare": "%2$s/op", "commit": "%2$s/op", "rollback": "%2$s/op"}]}
    """
        .formatted(gid, services);
  }

  /**
   * Posts until a coordinator answers (one may be down, being killed or restarting), starting with
   * the {@code i}-th and moving on to the next on every failure, as a client behind a load balancer
   * would.
   */
  private void submit(int i) {
    AtomicInteger tries = new AtomicInteger(i);
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> {
          int port = ports[tries.getAndIncrement() % ports.length];
          HttpRequest request =
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/api/v1/transactions"))
                  .timeout(Duration.ofSeconds(5))
                  .POST(HttpRequest.BodyPublishers.ofString(body(i)))
                  .build();
          try {
            HttpResponse<String> response =
                client.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
            return true;
          } catch (IOException e) {
            return false;
          }
        });
  }

  private String status(int i) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:"
                        + ports[i % ports.length]
                        + "/api/v1/transactions/crash-"
                        + i))
            .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode())
        .as("crash-" + i + " acknowledged but not found: " + response.body())
        .isEqualTo(200);
    String body = response.body();
    int at = body.indexOf("\"status\":\"") + 10;
    return body.substring(at, body.indexOf('"', at));
  }

  private final long startNanos = System.nanoTime();

  /** A line on the test's output with the seconds since it began, to see where time goes. */
  private void log(String format, Object... args) {
    System.out.printf(
        "[%6.1f s] %s%n", (System.nanoTime() - startNanos) / 1e9, String.format(format, args));
  }

  /** The fresh PostgreSQL database of this run, or null on SQLite. */
  private String database;

  @AfterEach
  void dropDatabase() throws java.sql.SQLException {
    if (database != null) {
      ServerProcess.dropDatabase(database);
    }
  }

  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"sqlite", "postgresql", "postgresql with 2 coordinators"})
  void killedTwiceUnderLoad_losesNothing_andLeavesNoMixedOutcome(String log) throws Exception {
    int coordinators = log.endsWith("2 coordinators") ? 2 : 1;
    if (log.startsWith("postgresql")) {
      database = ServerProcess.createDatabase("pledge_crash");
    }
    participants = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    participants.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    participants.createContext("/op", this::participant);
    participants.start();
    services = "http://127.0.0.1:" + participants.getAddress().getPort();
    ports = new int[coordinators];
    for (int k = 0; k < coordinators; k++) {
      ports[k] = ServerProcess.freePort();
      startServer(k);
    }

    AtomicInteger acknowledged = new AtomicInteger();
    try (ExecutorService clients = Executors.newFixedThreadPool(8)) {
      List<Future<?>> sent = new ArrayList<>();
      for (int i = 0; i < TRANSACTIONS; i++) {
        int n = i;
        sent.add(
            clients.submit(() -> {
              submit(n);
              acknowledged.incrementAndGet();
            }));
      }
      int[] killAt = {TRANSACTIONS / 3, 2 * TRANSACTIONS / 3};
      for (int round = 0; round < killAt.length; round++) {
        int kill = killAt[round];
        int victim = round % coordinators;
        await().atMost(Duration.ofSeconds(90)).until(() -> acknowledged.get() >= kill);
        servers.get(victim).kill(); // SIGKILL: no shutdown hook runs
        log("killed coordinator %d after %d acknowledged", victim, acknowledged.get());
        startServer(victim);
        log("restarted coordinator %d", victim);
      }
      for (Future<?> future : sent) {
        future.get(120, TimeUnit.SECONDS);
      }
    }

    log("all %d acknowledged", TRANSACTIONS);
    await()
        .atMost(FINAL_WITHIN)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          for (int i = 0; i < TRANSACTIONS; i++) {
            String status = status(i);
            if (!status.equals("committed") && !status.equals("aborted")) {
              return false;
            }
          }
          return true;
        });

    log("all final");
    List<String> violations = new ArrayList<>();
    int committed = 0;
    for (int i = 0; i < TRANSACTIONS; i++) {
      String gid = "crash-" + i;
      String status = status(i);
      committed += status.equals("committed") ? 1 : 0;
      int branches = i % 2 == 0 ? 3 : 2;
      List<String> done = new ArrayList<>();
      List<String> notDone = new ArrayList<>();
      for (int b = 1; b <= branches; b++) {
        Truth truth = truths.getOrDefault(gid + "/" + b, new Truth());
        for (String anomaly : truth.anomalies) {
          violations.add(gid + "/" + b + ": " + anomaly);
        }
        boolean applied = "applied".equals(truth.forward);
        if (i % 2 == 0) {
          if (status.equals("committed") && (!applied || truth.undone)) {
            violations.add(
                gid
                    + "/"
                    + b
                    + ": saga committed, action "
                    + truth.forward
                    + (truth.undone ? ", compensated" : ""));
          }
          if (status.equals("aborted") && applied && !truth.undone) {
            violations.add(gid + "/" + b + ": saga aborted, action ran and was never compensated");
          }
        } else {
          (truth.committed ? done : notDone).add(Integer.toString(b));
          if (status.equals("aborted") && applied && !truth.undone) {
            violations.add(gid + "/" + b + ": 2pc aborted, branch left prepared");
          }
        }
      }
      if (!done.isEmpty() && !notDone.isEmpty()) {
        violations.add(gid + ": mixed outcome, committed " + done + ", not " + notDone);
      }
      if (status.equals("committed") && !notDone.isEmpty()) {
        violations.add(gid + ": 2pc committed, branches " + notDone + " did not");
      }
    }
    assertThat(violations).isEmpty();
    assertThat(committed).as("some committed").isBetween(TRANSACTIONS / 4, TRANSACTIONS - 10);
  }
}
