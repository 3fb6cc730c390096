package dev.pledge.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code pledge demo} end to end, as a user runs it but with fewer orders: the coordinator is a
 * real child process on its SQLite log, killed with -9 mid-run and restarted on the same data; the
 * shop's four services inject their faults; the report must find everything consistent.
 */
class DemoCommandTest {
  /** How long the console is watched at most: longer than the demo of 60 orders ever runs. */
  private static final Duration DEMO_LIMIT = Duration.ofMinutes(10);

  @TempDir Path dataDir;

  @Test
  void demoWithAKillMinus9_endsConsistent() throws InterruptedException {
    StringWriter output = new StringWriter();
    CommandLine command = new CommandLine(new Main());
    command.setOut(new PrintWriter(output, true));
    command.setErr(new PrintWriter(output, true));
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<String> consoleSaw = new AtomicReference<>();
    Thread watcher = Thread.ofVirtual().start(() -> watchTheConsole(output, done, consoleSaw));

    int exit;
    try {
      exit =
          command.execute(
              "demo",
              "--orders",
              "60",
              "--clients",
              "8",
              "--seed",
              "3",
              "--data-dir",
              dataDir.toString());
    } finally {
      done.set(true);
    }
    watcher.join(Duration.ofSeconds(30));

    String out = output.toString();
    System.out.println(out);
    System.out.println("the console while the demo ran: " + consoleSaw.get());
    assertThat(exit).as(out).isZero();
    assertThat(out).contains("CONSISTENT: every order committed or aborted everywhere");
    assertThat(out).containsPattern("console: http://127\\.0\\.0\\.1:\\d+/console/");
    // While the demo ran, the printed address served the console, and the list the console reads
    // held the demo's orders.
    assertThat(consoleSaw.get())
        .as("what the console showed while the demo ran; output:%n%s", out)
        .isNotNull()
        .startsWith("page 200, ");
    assertThat(out).doesNotContain("[FAIL]").doesNotContain("INCONSISTENT");
    // The kill really happened, and a new process took over on the same data.
    Matcher killed = Pattern.compile("coordinator pid (\\d+) killed with SIGKILL").matcher(out);
    Matcher back = Pattern.compile("coordinator back as pid (\\d+)").matcher(out);
    assertThat(killed.find()).as(out).isTrue();
    assertThat(back.find()).as(out).isTrue();
    assertThat(back.group(1)).isNotEqualTo(killed.group(1));
    assertThat(ProcessHandle.of(Long.parseLong(killed.group(1))).map(ProcessHandle::isAlive))
        .isNotEqualTo(java.util.Optional.of(true));
    // Every order is accounted for, and each check ran and held.
    Matcher total = Pattern.compile("total\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)").matcher(out);
    assertThat(total.find()).as(out).isTrue();
    assertThat(Integer.parseInt(total.group(1))).isEqualTo(60);
    assertThat(Integer.parseInt(total.group(2)) + Integer.parseInt(total.group(3))).isEqualTo(60);
    assertThat(Integer.parseInt(total.group(4))).isZero();
    assertThat(Integer.parseInt(total.group(2))).as("some orders commit").isPositive();
    assertThat(out)
        .contains(
            "[ok]   every order final",
            "[ok]   the coordinator agrees",
            "[ok]   no transaction left non-final",
            "[ok]   stock conserved",
            "[ok]   money conserved",
            "[ok]   one shipment per committed order, none for an aborted one",
            "[ok]   every barrier consistent");
  }

  /**
   * Waits for the demo to print the console's address, then reads what the console reads, as an
   * operator who opens it would: the page, and the list of transactions, until the list holds one
   * of the demo's orders. Records what it saw; gives up when the demo is done. A bounded wait
   * (Awaitility, polling every 50 ms), not a loop of sleeps; a read that fails (the coordinator is
   * being killed and restarted) is tried again at the next poll.
   */
  private static void watchTheConsole(
      StringWriter output, AtomicBoolean done, AtomicReference<String> saw) {
    Pattern address = Pattern.compile("console: (http://127\\.0\\.0\\.1:\\d+)/console/");
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    ObjectMapper json = new ObjectMapper();
    try {
      await()
          .atMost(DEMO_LIMIT)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> done.get() || sawTheConsole(output, address, client, json, saw));
    } catch (ConditionTimeoutException e) {
      // The demo ran past its limit: the test's own assertions say what was missing.
    }
  }

  /** One look at the console, if its address is printed yet; true when it showed an order. */
  private static boolean sawTheConsole(
      StringWriter output,
      Pattern address,
      HttpClient client,
      ObjectMapper json,
      AtomicReference<String> saw)
      throws InterruptedException {
    Matcher found = address.matcher(output.toString());
    if (!found.find()) {
      return false;
    }
    String base = found.group(1);
    try {
      HttpResponse<String> page =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/console/"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> list =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/api/v1/transactions?limit=50"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (page.statusCode() != 200
          || !page.body().contains("Pledge console")
          || list.statusCode() != 200) {
        return false;
      }
      JsonNode items = json.readTree(list.body()).path("items");
      if (items.isEmpty()) {
        return false;
      }
      saw.set(
          "page "
              + page.statusCode()
              + ", "
              + items.size()
              + " transactions listed, the newest "
              + items.get(0).path("gid").asText()
              + " ("
              + items.get(0).path("mode").asText()
              + ")");
      return true;
    } catch (IOException e) {
      return false; // the coordinator is down for a moment (the demo's kill -9): look again
    }
  }

  /**
   * {@code --mode xa}: inventory on PostgreSQL and payment on MariaDB, every order's branches real
   * prepared transactions, the coordinator killed with -9 mid-run; consistent, and nothing left
   * prepared in either database. The servers are {@code PLEDGE_TEST_XA_ADMIN_POSTGRES_URL} and
   * {@code PLEDGE_TEST_XA_ADMIN_MARIADB_URL}, or the local ones; the run makes databases of its
   * own.
   */
  @Test
  void xaDemoWithAKillMinus9_endsConsistentWithNothingPrepared() {
    StringWriter output = new StringWriter();
    CommandLine command = new CommandLine(new Main());
    command.setOut(new PrintWriter(output, true));
    command.setErr(new PrintWriter(output, true));

    int exit =
        command.execute(
            "demo",
            "--mode",
            "xa",
            "--orders",
            "40",
            "--clients",
            "6",
            "--seed",
            "5",
            "--postgres-url",
            env(
                "PLEDGE_TEST_XA_ADMIN_POSTGRES_URL",
                "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres"),
            "--mariadb-url",
            env("PLEDGE_TEST_XA_ADMIN_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/?user=root"),
            "--data-dir",
            dataDir.toString());

    String out = output.toString();
    System.out.println(out);
    assertThat(exit).as(out).isZero();
    assertThat(out).contains("CONSISTENT: every order committed or aborted everywhere");
    assertThat(out).doesNotContain("[FAIL]").doesNotContain("INCONSISTENT");
    assertThat(out).containsPattern("coordinator pid \\d+ killed with SIGKILL");
    assertThat(out).containsPattern("coordinator back as pid \\d+");
    Matcher xa = Pattern.compile("xa\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)").matcher(out);
    assertThat(xa.find()).as(out).isTrue();
    assertThat(Integer.parseInt(xa.group(1))).isEqualTo(40);
    assertThat(Integer.parseInt(xa.group(2))).as("some xa orders commit").isPositive();
    assertThat(Integer.parseInt(xa.group(4))).isZero();
    assertThat(out)
        .contains(
            "[ok]   stock conserved",
            "[ok]   money conserved",
            "[ok]   every barrier consistent",
            "[ok]   no prepared transaction left");
    assertThat(out).doesNotContain("could not drop an xa database");
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
