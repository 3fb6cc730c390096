package dev.pledge.server.lra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /lra-coordinator} on a real {@code pledge server} process (SQLite log), called as
 * Narayana's LRA client calls it, with real HTTP participants (the JDK's server) that record every
 * callback they receive, in order.
 */
class LraCoordinatorTest {
  @TempDir static Path dataDir;

  private static Process server;
  private static String coordinator;
  private static HttpServer participants;
  private static String participantBase;
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Every callback received, as {@code "<participant> <op> <body>"}, in arrival order. */
  private static final List<String> calls = new CopyOnWriteArrayList<>();

  /** Headers of the callbacks, by {@code "<participant> <op>"}. */
  private static final Map<String, Map<String, List<String>>> headers = new ConcurrentHashMap<>();

  /** What each participant answers to complete or compensate (default 200). */
  private static final Map<String, Integer> answers = new ConcurrentHashMap<>();

  /** What each participant's status endpoint reports (default Completed). */
  private static final Map<String, String> statuses = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() throws Exception {
    participants = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    participants.createContext("/p", LraCoordinatorTest::participant);
    participants.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    participants.start();
    participantBase = "http://127.0.0.1:" + participants.getAddress().getPort() + "/p";
    Path serverLog = dataDir.resolve("server.log");
    String java = ProcessHandle.current().info().command().orElse("java");
    server =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "dev.pledge.server.Main",
                "server",
                "--port",
                "0",
                "--data-dir",
                dataDir.toString(),
                "--poll-millis",
                "100")
            .redirectError(ProcessBuilder.Redirect.appendTo(serverLog.toFile()))
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    Future<String> ready =
        Executors.newVirtualThreadPerTaskExecutor()
            .submit(() -> {
              String line;
              while ((line = out.readLine()) != null) {
                if (line.contains("listening on")) {
                  return line;
                }
              }
              return null;
            });
    String line = ready.get(60, TimeUnit.SECONDS);
    assertThat(line).as("server start; log: " + Files.readString(serverLog)).isNotNull();
    coordinator = line.substring(line.indexOf("http://")).strip() + "/lra-coordinator";
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.destroyForcibly();
    }
    if (participants != null) {
      participants.stop(0);
    }
  }

  @BeforeEach
  void clear() {
    calls.clear();
    answers.clear();
    statuses.clear();
  }

  private static void participant(HttpExchange exchange) throws IOException {
    try (exchange) {
      // /p/<name>/<op>
      String[] parts = exchange.getRequestURI().getPath().split("/");
      String name = parts[2];
      String op = parts[3];
      String body =
          new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).strip();
      calls.add(name + " " + op + (body.isEmpty() ? "" : " " + body));
      headers.put(name + " " + op, Map.copyOf(exchange.getRequestHeaders()));
      int status = 200;
      String answer = "";
      switch (op) {
        case "complete", "compensate" -> {
          status = answers.getOrDefault(name, 200);
          answer = op.equals("complete") ? "Completed" : "Compensated";
        }
        case "status" -> answer = statuses.getOrDefault(name, "Completed");
        default -> {}
      }
      byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        exchange.getResponseBody().write(bytes);
      }
    }
  }

  // --- the client's side, as Narayana's client calls it ----------------------------------------

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return CLIENT.send(
        request.header("Narayana-LRA-API-version", "1.2").timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String startLra(String query) throws Exception {
    HttpResponse<String> response =
        send(
            HttpRequest.newBuilder(URI.create(coordinator + "/start?" + query))
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    assertThat(response.headers().firstValue("Location")).contains(response.body());
    assertThat(response.headers().firstValue("Narayana-LRA-API-version")).contains("1.2");
    return response.body();
  }

  private static String uid(String id) {
    String path = URI.create(id).getPath();
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static String links(String name, String... ops) {
    List<String> links = new ArrayList<>();
    for (String op : ops) {
      links.add(
          "<"
              + participantBase
              + "/"
              + name
              + "/"
              + op
              + ">; rel=\""
              + op
              + "\"; title=\""
              + op
              + " URI\"; type=\"text/plain\"");
    }
    return String.join(",", links);
  }

  private static HttpResponse<String> join(String id, String name, String... ops) throws Exception {
    String link = links(name, ops);
    return send(
        HttpRequest.newBuilder(URI.create(coordinator + "/" + uid(id) + "?TimeLimit=0"))
            .header("Link", link)
            .PUT(HttpRequest.BodyPublishers.ofString(link)));
  }

  private static final String[] ALL = {"complete", "compensate", "status", "forget", "after"};

  private static HttpResponse<String> end(String id, String how) throws Exception {
    return send(
        HttpRequest.newBuilder(URI.create(coordinator + "/" + uid(id) + "/" + how))
            .PUT(HttpRequest.BodyPublishers.noBody()));
  }

  private static HttpResponse<String> get(String id) throws Exception {
    return send(
        HttpRequest.newBuilder(URI.create(coordinator + "/" + uid(id)))
            .header("Accept", "application/json")
            .GET());
  }

  private static void awaitFinished(String id) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> get(id).statusCode() == 404);
  }

  // --- tests -----------------------------------------------------------------------------------

  @Test
  void close_completesEveryParticipant_thenAfterWithClosed_thenTheLraIsGone() throws Exception {
    String id = startLra("ClientID=close-test&TimeLimit=0");
    assertThat(id).startsWith(coordinator + "/");
    JsonNode data = JSON.readTree(get(id).body());
    assertThat(data.path("lraId").asText()).isEqualTo(id);
    assertThat(data.path("status").asText()).isEqualTo("Active");
    assertThat(data.path("topLevel").asBoolean()).isTrue();

    HttpResponse<String> joined = join(id, "a", ALL);
    assertThat(joined.statusCode()).as(joined.body()).isEqualTo(200);
    String recovery = joined.headers().firstValue("Long-Running-Action-Recovery").orElseThrow();
    assertThat(recovery).startsWith(coordinator + "/recovery/" + uid(id) + "/");
    assertThat(joined.body()).isEqualTo(recovery);
    assertThat(join(id, "a", ALL).body()).as("the same participant again").isEqualTo(recovery);
    assertThat(join(id, "b", ALL).statusCode()).isEqualTo(200);

    HttpResponse<String> closed = end(id, "close");
    assertThat(closed.statusCode()).isEqualTo(200);
    awaitFinished(id);
    assertThat(closed.body()).isEqualTo("Closed");
    assertThat(calls)
        .containsExactlyInAnyOrder("a complete", "b complete", "a after Closed", "b after Closed");
    assertThat(calls.subList(0, 2)).containsExactlyInAnyOrder("a complete", "b complete");
    assertThat(headers.get("a complete").get("Long-running-action")).containsExactly(id);
    assertThat(headers.get("a after").get("Long-running-action-ended")).containsExactly(id);
    assertThat(join(id, "c", ALL).statusCode()).as("joining a finished LRA").isIn(404, 412);
    assertThat(end(id, "cancel").statusCode()).isEqualTo(404);
  }

  @Test
  void closeOrCancel_ofAnLraThatHasEnded_answers404_asNarayanasClientExpects() throws Exception {
    // A resource method's own cancel ends the LRA before its filter closes it: that close must read
    // as "ended already" (404), not as a failed close (412).
    String id = startLra("ClientID=&TimeLimit=0");
    assertThat(join(id, "e", ALL).statusCode()).isEqualTo(200);
    assertThat(end(id, "cancel").statusCode()).isEqualTo(200);
    awaitFinished(id);
    assertThat(end(id, "close").statusCode()).isEqualTo(404);
    assertThat(end(id, "cancel").statusCode()).isEqualTo(404);
    // The same participant's join again (a MANDATORY method called with the ended LRA, as after a
    // time limit) must not read as active.
    assertThat(join(id, "e", ALL).statusCode()).isEqualTo(404);
    assertThat(calls).doesNotContain("e complete");
  }

  @Test
  void cancel_compensatesInReverseJoinOrder_thenAfterWithCancelled() throws Exception {
    String id = startLra("ClientID=&TimeLimit=0");
    for (String name : List.of("a", "b", "c")) {
      assertThat(join(id, name, ALL).statusCode()).isEqualTo(200);
    }
    HttpResponse<String> cancelled = end(id, "cancel");
    assertThat(cancelled.statusCode()).isEqualTo(200);
    awaitFinished(id);
    assertThat(calls.subList(0, 3)).containsExactly("c compensate", "b compensate", "a compensate");
    assertThat(calls.subList(3, 6))
        .containsExactlyInAnyOrder("a after Cancelled", "b after Cancelled", "c after Cancelled");
  }

  @Test
  void timeLimit_cancelsTheLra() throws Exception {
    String id = startLra("ClientID=&TimeLimit=300");
    assertThat(join(id, "a", "compensate", "after").statusCode()).isEqualTo(200);
    awaitFinished(id);
    assertThat(calls).containsExactly("a compensate", "a after Cancelled");
  }

  @Test
  void accepted202_isFollowedByStatusPolls_thenForget() throws Exception {
    answers.put("a", 202);
    statuses.put("a", "Completing");
    String id = startLra("TimeLimit=0");
    assertThat(join(id, "a", ALL).statusCode()).isEqualTo(200);
    assertThat(end(id, "close").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> calls.contains("a status"));
    statuses.put("a", "Completed");
    awaitFinished(id);
    assertThat(calls.get(0)).isEqualTo("a complete");
    assertThat(calls).contains("a forget").endsWith("a after Closed");
    assertThat(calls.indexOf("a forget")).isGreaterThan(calls.lastIndexOf("a status"));
  }

  @Test
  void failedToComplete_endsFailedToClose_andIsForgotten() throws Exception {
    answers.put("a", 409);
    String id = startLra("TimeLimit=0");
    assertThat(join(id, "a", ALL).statusCode()).isEqualTo(200);
    end(id, "close");
    awaitFinished(id);
    assertThat(calls).containsExactly("a complete", "a forget", "a after FailedToClose");
  }

  @Test
  void leave_removesTheParticipant() throws Exception {
    String id = startLra("TimeLimit=0");
    join(id, "a", ALL);
    join(id, "b", ALL);
    HttpResponse<String> left =
        send(
            HttpRequest.newBuilder(URI.create(coordinator + "/" + uid(id) + "/remove"))
                .PUT(HttpRequest.BodyPublishers.ofString(links("a", ALL))));
    assertThat(left.statusCode()).as(left.body()).isEqualTo(200);
    end(id, "close");
    awaitFinished(id);
    assertThat(calls).containsExactly("b complete", "b after Closed");
  }

  @Test
  void nested_closesProvisionally_andIsCompensatedWhenTheParentCancels() throws Exception {
    String parent = startLra("TimeLimit=0");
    String encoded = URLEncoder.encode(parent, StandardCharsets.UTF_8);
    String child =
        startLra("TimeLimit=0&ParentLRA=" + URLEncoder.encode(encoded, StandardCharsets.UTF_8));
    assertThat(child).contains("?ParentLRA=");
    JsonNode data = JSON.readTree(get(child).body());
    assertThat(data.path("topLevel").asBoolean()).isFalse();
    assertThat(join(child, "n", ALL).statusCode()).isEqualTo(200);
    assertThat(join(parent, "p", ALL).statusCode()).isEqualTo(200);
    assertThat(calls).as("nothing is called while both are open").isEmpty();

    assertThat(end(child, "close").body()).isEqualTo("Closed");
    assertThat(calls).containsExactly("n complete");
    assertThat(headers.get("n complete").get("Long-running-action-parent")).containsExactly(parent);
    assertThat(get(child).statusCode()).as("a provisionally closed nested LRA").isEqualTo(200);

    end(parent, "cancel");
    awaitFinished(parent);
    awaitFinished(child);
    assertThat(calls).contains("n compensate", "p compensate", "n after Cancelled");
    assertThat(calls.indexOf("p compensate"))
        .as("the parent's own participant joined after the nested LRA: compensated first")
        .isLessThan(calls.indexOf("n compensate"));
  }

  @Test
  void nested_isClosedForGood_whenTheParentCloses() throws Exception {
    String parent = startLra("TimeLimit=0");
    String child =
        startLra("ParentLRA=" + URLEncoder.encode(parent, StandardCharsets.UTF_8) + "&TimeLimit=0");
    join(child, "n", ALL);
    end(child, "close");
    end(parent, "close");
    awaitFinished(parent);
    awaitFinished(child);
    // n kept what it needed to compensate until the parent ended: it is told to forget.
    assertThat(calls).containsExactly("n complete", "n forget", "n after Closed");
  }

  @Test
  void list_andRecovery_showUnfinishedLras_only() throws Exception {
    String open = startLra("TimeLimit=0");
    String done = startLra("TimeLimit=0");
    end(done, "close");
    awaitFinished(done);
    HttpResponse<String> list =
        send(HttpRequest.newBuilder(URI.create(coordinator)).header("Accept", "application/json"));
    assertThat(list.statusCode()).isEqualTo(200);
    List<String> listed = new ArrayList<>();
    JSON.readTree(list.body()).forEach(node -> listed.add(node.path("lraId").asText()));
    assertThat(listed).contains(open).doesNotContain(done);
    HttpResponse<String> recovery =
        send(HttpRequest.newBuilder(URI.create(coordinator + "/recovery")));
    assertThat(recovery.statusCode()).isEqualTo(200);
    assertThat(recovery.body()).doesNotContain(uid(open)); // open LRAs are not recovering
    HttpResponse<String> status =
        send(HttpRequest.newBuilder(URI.create(coordinator + "/" + uid(open) + "/status")));
    assertThat(status.body()).isEqualTo("Active");
    assertThat(get(coordinator + "/nosuchlra").statusCode()).isEqualTo(404);
    end(open, "cancel");
  }

  @Test
  void linkHeaders_parseIntoTheParticipantsUrls() {
    Map<dev.pledge.core.Op, String> urls =
        LraCoordinatorApi.parseLinks(
            "<http://x/c>; rel=\"compensate\"; title=\"compensate URI\"; type=\"text/plain\","
                + "<http://x/d>; rel=complete,<http://x/l>; rel=\"leave\"");
    assertThat(urls)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                dev.pledge.core.Op.COMPENSATE,
                "http://x/c",
                dev.pledge.core.Op.COMPLETE,
                "http://x/d"));
  }
}
