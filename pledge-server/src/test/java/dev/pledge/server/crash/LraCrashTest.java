package dev.pledge.server.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.server.ServerProcess;
import dev.pledge.server.lra.LraParties;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An LRA coordinator killed with {@code -9} between close (or cancel) and its participants'
 * answers: a real server process, on SQLite and on PostgreSQL, holds {@value #LRAS} LRAs of two
 * participants each; half are closed and half cancelled while the participants hold every complete
 * and compensate callback unanswered. Once every LRA has sent its first callback (the decision is
 * in the log: persist, then act), the server is killed and started again on the same log and port.
 * Afterwards every participant of a closed LRA was completed and never compensated, every
 * participant of a cancelled one compensated in reverse join order and never completed, each heard
 * the final status on its after URL, the last answer of each callback was a success, and the LRA is
 * gone ({@code 404}) with the right outcome in the log.
 */
class LraCrashTest {
  private static final int LRAS = 6;

  @TempDir Path dataDir;
  private ServerProcess server;
  private LraParties parties;
  private String database;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.kill();
    }
    if (parties != null) {
      parties.close();
    }
    if (database != null) {
      ServerProcess.dropDatabase(database);
    }
  }

  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"sqlite", "postgresql"})
  void killedBetweenEndAndCallbacks_everyParticipantHearsItsEndAfterRestart(String logKind)
      throws Exception {
    if (logKind.equals("postgresql")) {
      database = ServerProcess.createDatabase("pledge_lra_crash");
    }
    parties = new LraParties();
    int port = ServerProcess.freePort();
    Path serverLog = dataDir.resolve("server.log");
    server = ServerProcess.start(port, dataDir, database, serverLog);
    String url = server.url();

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < LRAS; i++) {
      String id = LraParties.start(url);
      ids.add(id);
      assertThat(parties.join(url, id, "l" + i + "a").statusCode()).isEqualTo(200);
      assertThat(parties.join(url, id, "l" + i + "b").statusCode()).isEqualTo(200);
    }

    parties.hold();
    try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < LRAS; i++) {
        String id = ids.get(i);
        String how = closed(i) ? "close" : "cancel";
        clients.submit(() -> {
          try {
            return LraParties.end(url, id, how).statusCode();
          } catch (IOException e) {
            return -1; // the coordinator was killed before it answered
          }
        });
      }
      // Every LRA has sent its first callback: both completions, or the last joiner's compensation.
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> {
            for (int i = 0; i < LRAS; i++) {
              boolean called =
                  closed(i)
                      ? !parties.calls("l" + i + "a", "complete").isEmpty()
                          && !parties.calls("l" + i + "b", "complete").isEmpty()
                      : !parties.calls("l" + i + "b", "compensate").isEmpty();
              if (!called) {
                return false;
              }
            }
            return true;
          });
      server.kill(); // SIGKILL while every callback is still unanswered
      server = null;
      int receivedBeforeKill = parties.calls().size();
      assertThat(parties.calls())
          .as("nothing was answered before the kill")
          .allMatch(call -> call.answer() == 0);
      assertThat(receivedBeforeKill).isGreaterThanOrEqualTo(LRAS / 2 * 2 + LRAS / 2);
      parties.release();
      server = ServerProcess.start(port, dataDir, database, serverLog);
    }

    for (String id : ids) {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> LraParties.get(url, id).statusCode() == 404);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() ->
            parties.calls().stream().filter(c -> c.op().equals("after")).count() == 2L * LRAS);

    List<String> violations = new ArrayList<>();
    for (int i = 0; i < LRAS; i++) {
      String id = ids.get(i);
      String expected = closed(i) ? "committed" : "aborted";
      String logged = LraParties.logStatus(url, id);
      if (!logged.equals(expected)) {
        violations.add(id + ": the log says " + logged + ", expected " + expected);
      }
      String step = closed(i) ? "complete" : "compensate";
      String other = closed(i) ? "compensate" : "complete";
      String end = closed(i) ? "Closed" : "Cancelled";
      for (String p : List.of("l" + i + "a", "l" + i + "b")) {
        List<LraParties.Call> steps = parties.calls(p, step);
        if (steps.isEmpty() || steps.get(steps.size() - 1).answer() != 200) {
          violations.add(p + ": " + step + " never answered 200: " + steps);
        }
        if (!parties.calls(p, other).isEmpty()) {
          violations.add(p + ": also " + other + ": " + parties.calls(p, other));
        }
        List<LraParties.Call> after = parties.calls(p, "after");
        if (after.isEmpty() || !after.stream().allMatch(c -> c.body().equals(end))) {
          violations.add(p + ": after callbacks " + after + ", expected " + end);
        }
      }
      if (!closed(i)) {
        // Reverse join order: b compensated (answered 200) before a's first compensation.
        List<LraParties.Call> all = parties.calls();
        int bDone = -1;
        int aFirst = -1;
        for (int k = 0; k < all.size(); k++) {
          LraParties.Call c = all.get(k);
          if (c.op().equals("compensate")
              && c.participant().equals("l" + i + "b")
              && c.answer() == 200) {
            bDone = bDone < 0 ? k : bDone;
          }
          if (c.op().equals("compensate") && c.participant().equals("l" + i + "a")) {
            aFirst = aFirst < 0 ? k : aFirst;
          }
        }
        if (bDone < 0 || aFirst < bDone) {
          violations.add(id + ": not compensated in reverse join order: " + all);
        }
      }
    }
    assertThat(violations).isEmpty();
  }

  private static boolean closed(int i) {
    return i % 2 == 0;
  }
}
