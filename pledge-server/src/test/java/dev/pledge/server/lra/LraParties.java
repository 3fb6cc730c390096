package dev.pledge.server.lra;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The two sides of an LRA for tests of real coordinator processes: participants (the JDK's HTTP
 * server in this JVM) that record every callback they receive, and the client's calls, made as
 * Narayana's LRA client makes them, to whichever coordinator a test names. While {@link #hold()} is
 * on, complete and compensate callbacks are received and recorded but not answered until {@link
 * #release()}, and then answered {@code 503}: a coordinator killed meanwhile must send them again.
 */
public final class LraParties implements AutoCloseable {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** One callback received: {@code participant op body answer}, {@code answer} as sent. */
  public record Call(String participant, String op, String body, int answer) {
    @Override
    public String toString() {
      return participant + " " + op + (body.isEmpty() ? "" : " " + body) + " -> " + answer;
    }
  }

  private final HttpServer server;
  private final String base;
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private volatile CountDownLatch held;

  public LraParties() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/p", this::participant);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort() + "/p";
  }

  /** From now on complete and compensate callbacks wait, unanswered, until {@link #release}. */
  public void hold() {
    held = new CountDownLatch(1);
  }

  /** Callbacks that wait are answered {@code 503}; later ones at once, {@code 200}. */
  public void release() {
    CountDownLatch latch = held;
    held = null;
    if (latch != null) {
      latch.countDown();
    }
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  /** The callbacks {@code participant} received for {@code op}, in order. */
  public List<Call> calls(String participant, String op) {
    List<Call> out = new ArrayList<>();
    for (Call call : calls) {
      if (call.participant().equals(participant) && call.op().equals(op)) {
        out.add(call);
      }
    }
    return out;
  }

  private void participant(HttpExchange exchange) throws IOException {
    try (exchange) {
      String[] parts = exchange.getRequestURI().getPath().split("/"); // /p/<name>/<op>
      String name = parts[2];
      String op = parts[3];
      String body =
          new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).strip();
      int status = 200;
      String answer = "";
      boolean wasHeld = false;
      switch (op) {
        case "complete", "compensate" -> {
          CountDownLatch latch = held;
          if (latch != null) {
            wasHeld = true;
            calls.add(new Call(name, op, body, 0)); // received; its answer is still owed
            try {
              latch.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            status = 503;
          } else {
            answer = op.equals("complete") ? "Completed" : "Compensated";
          }
        }
        case "status" -> answer = "Completed";
        default -> {}
      }
      if (!wasHeld) {
        calls.add(new Call(name, op, body, status));
      }
      byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        exchange.getResponseBody().write(bytes);
      }
    }
  }

  /** The link list a participant joins with: complete, compensate, status and after. */
  public String links(String name) {
    List<String> links = new ArrayList<>();
    for (String op : List.of("complete", "compensate", "status", "after")) {
      links.add("<" + base + "/" + name + "/" + op + ">; rel=\"" + op + "\"");
    }
    return String.join(",", links);
  }

  // --- the client's calls, to the coordinator at {base}/lra-coordinator ---------------------

  public static HttpResponse<String> send(HttpRequest.Builder request)
      throws IOException, InterruptedException {
    return CLIENT.send(
        request.header("Narayana-LRA-API-version", "1.2").timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Starts an LRA on the coordinator at {@code server} and answers its id. */
  public static String start(String server) throws IOException, InterruptedException {
    HttpResponse<String> response =
        send(
            HttpRequest.newBuilder(URI.create(server + "/lra-coordinator/start?ClientID=t"))
                .POST(HttpRequest.BodyPublishers.noBody()));
    if (response.statusCode() != 201) {
      throw new AssertionError("start answered " + response.statusCode() + ": " + response.body());
    }
    return response.body();
  }

  /** The uid of an LRA id: the last segment of its path. */
  public static String uid(String id) {
    String path = URI.create(id).getPath();
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** Joins {@code participant} to LRA {@code id} through the coordinator at {@code server}. */
  public HttpResponse<String> join(String server, String id, String participant)
      throws IOException, InterruptedException {
    String link = links(participant);
    return send(
        HttpRequest.newBuilder(URI.create(server + "/lra-coordinator/" + uid(id)))
            .header("Link", link)
            .PUT(HttpRequest.BodyPublishers.ofString(link)));
  }

  /** Closes ({@code how} "close") or cancels ("cancel") LRA {@code id} through {@code server}. */
  public static HttpResponse<String> end(String server, String id, String how)
      throws IOException, InterruptedException {
    return send(
        HttpRequest.newBuilder(URI.create(server + "/lra-coordinator/" + uid(id) + "/" + how))
            .PUT(HttpRequest.BodyPublishers.noBody()));
  }

  /** {@code GET} of LRA {@code id} at {@code server}: {@code 404} once it has ended. */
  public static HttpResponse<String> get(String server, String id)
      throws IOException, InterruptedException {
    return send(
        HttpRequest.newBuilder(URI.create(server + "/lra-coordinator/" + uid(id)))
            .header("Accept", "application/json")
            .GET());
  }

  /** The status of the transaction behind LRA {@code id} in the log, through the v1 API. */
  public static String logStatus(String server, String id)
      throws IOException, InterruptedException {
    HttpResponse<String> response =
        CLIENT.send(
            HttpRequest.newBuilder(URI.create(server + "/api/v1/transactions/" + uid(id))).build(),
            HttpResponse.BodyHandlers.ofString());
    String body = response.body();
    int at = body.indexOf("\"status\":\"");
    return at < 0 ? "none (" + response.statusCode() + ")" : body.substring(at + 10).split("\"")[0];
  }

  @Override
  public void close() {
    release();
    server.stop(0);
  }
}
