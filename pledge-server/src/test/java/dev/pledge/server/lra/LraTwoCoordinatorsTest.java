package dev.pledge.server.lra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.server.ServerProcess;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real {@code pledge server} processes on one PostgreSQL log serve the same LRAs, as two
 * coordinators behind one address would: an LRA started on one is joined, closed or cancelled
 * through the other, and both converge on what the log says (participants called once per step, the
 * final status on their after URLs, {@code 404} from both once it has ended). When the coordinator
 * that is ending an LRA is killed, the other one finishes it.
 */
@Timeout(300)
class LraTwoCoordinatorsTest {
  @TempDir static Path dataDir;
  private static String database;
  private static int portB;
  private static ServerProcess a;
  private static ServerProcess b;
  private static LraParties parties;

  @BeforeAll
  static void start() throws Exception {
    database = ServerProcess.createDatabase("pledge_lra_two");
    parties = new LraParties();
    a = ServerProcess.start(ServerProcess.freePort(), dataDir, database, dataDir.resolve("a.log"));
    portB = ServerProcess.freePort();
    b = ServerProcess.start(portB, dataDir, database, dataDir.resolve("b.log"));
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerProcess server : new ServerProcess[] {a, b}) {
      if (server != null) {
        server.kill();
      }
    }
    if (parties != null) {
      parties.close();
    }
    if (database != null) {
      ServerProcess.dropDatabase(database);
    }
  }

  @BeforeEach
  void bothUp() throws Exception {
    parties.release();
    if (b == null) {
      b = ServerProcess.start(portB, dataDir, database, dataDir.resolve("b.log"));
    }
  }

  @Test
  void startedOnA_joinedThroughBoth_closedThroughB_bothConverge() throws Exception {
    endsThroughTheOther(a.url(), b.url(), "close", "c1");
  }

  @Test
  void startedOnB_joinedThroughBoth_closedThroughA_bothConverge() throws Exception {
    endsThroughTheOther(b.url(), a.url(), "close", "c2");
  }

  @Test
  void startedOnA_joinedThroughBoth_cancelledThroughB_bothConverge() throws Exception {
    endsThroughTheOther(a.url(), b.url(), "cancel", "c3");
  }

  /**
   * Starts an LRA on {@code first}, joins one participant through {@code second} and then one
   * through {@code first}, ends it through {@code second}, and checks both coordinators and the
   * participants.
   */
  private void endsThroughTheOther(String first, String second, String how, String name)
      throws Exception {
    String id = LraParties.start(first);
    String p = name + "p";
    String q = name + "q";
    assertThat(parties.join(second, id, p).statusCode()).isEqualTo(200);
    assertThat(parties.join(first, id, q).statusCode()).isEqualTo(200);
    HttpResponse<String> ended = LraParties.end(second, id, how);
    assertThat(ended.statusCode()).as(ended.body()).isEqualTo(200);
    String status = how.equals("close") ? "Closed" : "Cancelled";
    assertThat(ended.body()).isEqualTo(status);
    bothConverge(id, status, p, q);
  }

  @Test
  void theCoordinatorEndingAnLra_killed_theOtherFinishesIt() throws Exception {
    String id = LraParties.start(a.url());
    assertThat(parties.join(a.url(), id, "kp").statusCode()).isEqualTo(200);
    assertThat(parties.join(b.url(), id, "kq").statusCode()).isEqualTo(200);
    parties.hold();
    String bUrl = b.url();
    Thread.ofVirtual()
        .start(() -> {
          try {
            LraParties.end(bUrl, id, "close");
          } catch (IOException | InterruptedException e) {
            // killed before it answered
          }
        });
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() ->
            !parties.calls("kp", "complete").isEmpty()
                && !parties.calls("kq", "complete").isEmpty());
    b.kill(); // SIGKILL: the completions it sent are never answered to it
    b = null;
    parties.release();
    bothConverge(id, "Closed", "kp", "kq");
  }

  /** Both coordinators (those up) answer 404, and each participant heard its step and the end. */
  private void bothConverge(String id, String status, String... participants) {
    String step = status.equals("Closed") ? "complete" : "compensate";
    for (ServerProcess server : new ServerProcess[] {a, b}) {
      if (server != null) {
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(100))
            .untilAsserted(() ->
                assertThat(LraParties.get(server.url(), id).statusCode())
                    .as("GET of the ended LRA through " + server.url())
                    .isEqualTo(404));
      }
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> {
          for (String p : participants) {
            List<LraParties.Call> steps = parties.calls(p, step);
            assertThat(steps).as(p + " " + step).isNotEmpty();
            assertThat(steps.get(steps.size() - 1).answer()).isEqualTo(200);
            assertThat(parties.calls(p, "after"))
                .as(p + " after")
                .isNotEmpty()
                .allMatch(c -> c.body().equals(status));
          }
        });
    for (String p : participants) {
      String other = step.equals("complete") ? "compensate" : "complete";
      assertThat(parties.calls(p, other)).as(p + " " + other).isEmpty();
    }
  }
}
