package dev.pledge.bench.load;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

/**
 * One global transaction of each workload, twice: through Pledge, and as the same business work
 * without Pledge (the B0 baseline: the client calls the same participant endpoints itself, in
 * order). Each method returns when the transaction is done and says whether it succeeded.
 *
 * <p>When a Pledge transaction is done: when the API says {@code "final": true} (and {@code
 * committed}). saga, 2pc and 3pc are created with {@code POST /api/v1/transactions?waitSeconds=20},
 * which the coordinator answers once the transaction is final: one exchange per transaction. tcc
 * (and a create answered before the end) waits until the participants have committed the
 * transaction's last ops locally (confirms or commits: the earliest moment the coordinator can
 * record it final), then asks with a long poll ({@code GET /api/v1/transactions/{gid}
 * ?waitSeconds=20}), which the coordinator answers as soon as the transaction is final; GETs per
 * transaction are counted and reported. msg is done when the subscription has received and
 * committed the message (delivered), which is later than the API's {@code committed}.
 */
final class Drivers {
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  static final String TOPIC = "bench.orders";

  /** The long poll's wait, below {@link #CALL_TIMEOUT} so the request does not time out first. */
  private static final int LONG_POLL_SECONDS = 20;

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .executor(Executors.newVirtualThreadPerTaskExecutor())
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private final Participants participants;
  private final String ops;
  private final String inbox;
  private final String checkUrl;
  private volatile String coordinator;

  /** GETs of a transaction's state made to see it final. */
  final LongAdder polls = new LongAdder();

  /** Why transactions failed, last one seen (for the report). */
  volatile String lastError;

  Drivers(Participants participants) {
    this.participants = participants;
    this.ops = participants.base() + "/op";
    this.inbox = participants.base() + "/inbox";
    this.checkUrl = participants.base() + "/check";
  }

  void coordinator(String base) {
    this.coordinator = base;
  }

  /** Routes the msg topic to the bench's inbox. */
  void subscribe() {
    send(
        "PUT",
        coordinator + "/api/v1/subscriptions/bench-inbox",
        "{\"topic\":\"" + TOPIC + "\",\"target\":\"" + inbox + "\"}",
        200);
  }

  boolean pledge(Workload w, String gid) {
    try {
      return switch (w) {
        case SAGA_2, SAGA_5 -> submitted(w, gid, "action");
        case TWO_PC_2, TWO_PC_5 -> submitted(w, gid, "commit");
        case THREE_PC_2 -> submitted(w, gid, "do-commit");
        case TCC_2, TCC_5 -> tcc(w, gid);
        case MSG -> msg(gid);
      };
    } catch (BenchException e) {
      lastError = e.getMessage();
      participants.forget(gid);
      return false;
    }
  }

  boolean baseline(Workload w, String gid) {
    try {
      switch (w) {
        case SAGA_2, SAGA_5 -> {
          for (int i = 1; i <= w.branches; i++) {
            op(w, gid, i, "action");
          }
        }
        case TCC_2, TCC_5, TWO_PC_2, TWO_PC_5 -> {
          String first = w.mode.equals("tcc") ? "try" : "prepare";
          String second = w.mode.equals("tcc") ? "confirm" : "commit";
          for (int i = 1; i <= w.branches; i++) {
            op(w, gid, i, first);
          }
          for (int i = 1; i <= w.branches; i++) {
            op(w, gid, i, second);
          }
        }
        case THREE_PC_2 -> {
          for (String op : new String[] {"can-commit", "pre-commit", "do-commit"}) {
            for (int i = 1; i <= w.branches; i++) {
              op(w, gid, i, op);
            }
          }
        }
        case MSG -> {
          if (!participants.producerLocalCommit(gid)) {
            throw new BenchException(gid + ": the producer's barrier said rolled back");
          }
          HttpRequest request =
              HttpRequest.newBuilder(URI.create(inbox))
                  .timeout(CALL_TIMEOUT)
                  .header("Content-Type", "application/json")
                  .header("Pledge-Gid", gid)
                  .header("Pledge-Message-Id", gid + "#1")
                  .header("Pledge-Topic", TOPIC)
                  .header("Pledge-Key", gid)
                  .POST(HttpRequest.BodyPublishers.ofString(payload(gid, 1)))
                  .build();
          expectStatus(request, 200);
        }
      }
      return true;
    } catch (BenchException e) {
      lastError = e.getMessage();
      return false;
    } catch (SQLException e) {
      lastError = gid + ": producer's local transaction failed: " + e.getMessage();
      return false;
    }
  }

  /**
   * saga, 2pc and 3pc: submit with every branch and wait for the outcome in the same request
   * ({@code POST …?waitSeconds=20}), then check that the participants saw the last ops. A
   * coordinator that answers before the transaction is final (the wait ended, or one that does not
   * know the create's {@code waitSeconds}) is asked again with the long poll.
   */
  private boolean submitted(Workload w, String gid, String lastOp) {
    CompletableFuture<Void> lastOps = participants.expect(gid, lastOp, w.branches);
    String created =
        send(
            "POST",
            coordinator + "/api/v1/transactions?waitSeconds=" + LONG_POLL_SECONDS,
            createBody(w, gid, 60),
            201);
    if (created.contains("\"final\":true")) {
      await(gid, lastOps);
      return committed(gid, created);
    }
    await(gid, lastOps);
    return awaitFinal(gid);
  }

  private static boolean committed(String gid, String state) {
    if (state.contains("\"status\":\"committed\"")) {
      return true;
    }
    throw new BenchException(gid + " ended " + state);
  }

  /** The create request of a saga, 2pc or 3pc with every branch. */
  private String createBody(Workload w, String gid, int timeoutSeconds) {
    StringBuilder body = new StringBuilder(256 + 200 * w.branches);
    body.append("{\"gid\":\"")
        .append(gid)
        .append("\",\"mode\":\"")
        .append(w.mode)
        .append("\",\"timeoutSeconds\":")
        .append(timeoutSeconds)
        .append(",\"branches\":[");
    for (int i = 1; i <= w.branches; i++) {
      if (i > 1) {
        body.append(',');
      }
      body.append("{\"branchId\":\"b").append(i).append('"');
      for (String op : opsOf(w)) {
        body.append(",\"").append(op).append("\":\"").append(ops).append('"');
      }
      body.append(",\"payload\":").append(payload(gid, i)).append('}');
    }
    body.append("]}");
    return body.toString();
  }

  /** Creates a saga or 2pc transaction with every branch, and returns once it was accepted. */
  void create(Workload w, String gid, int timeoutSeconds) {
    send("POST", coordinator + "/api/v1/transactions", createBody(w, gid, timeoutSeconds), 201);
  }

  /**
   * Tries once to create a saga or 2pc transaction, with a short timeout.
   *
   * @return the answer's status code, 0 if none came within {@code timeout}, or -1 if there was no
   *     connection (refused, reset)
   */
  int tryCreate(Workload w, String gid, Duration timeout) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(coordinator + "/api/v1/transactions"))
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(createBody(w, gid, 60)))
            .build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (java.net.http.HttpTimeoutException e) {
      return 0;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }

  /** The transaction's state as the API answers it now (one GET). */
  String state(String gid) {
    return send("GET", coordinator + "/api/v1/transactions/" + gid, null, 200);
  }

  private static final String[] SAGA_OPS = {"action", "compensate"};
  private static final String[] TWO_PC_OPS = {"prepare", "commit", "rollback"};
  private static final String[] THREE_PC_OPS = {"can-commit", "pre-commit", "do-commit", "abort"};

  private static String[] opsOf(Workload w) {
    return switch (w.mode) {
      case "saga" -> SAGA_OPS;
      case "3pc" -> THREE_PC_OPS;
      default -> TWO_PC_OPS;
    };
  }

  /** tcc: begin, register and try each branch, commit; the coordinator confirms. */
  private boolean tcc(Workload w, String gid) {
    send(
        "POST",
        coordinator + "/api/v1/transactions",
        "{\"gid\":\"" + gid + "\",\"mode\":\"tcc\",\"timeoutSeconds\":60}",
        201);
    for (int i = 1; i <= w.branches; i++) {
      send(
          "POST",
          coordinator + "/api/v1/transactions/" + gid + "/branches",
          "{\"branchId\":\"b"
              + i
              + "\",\"try\":\""
              + ops
              + "\",\"confirm\":\""
              + ops
              + "\",\"cancel\":\""
              + ops
              + "\",\"payload\":"
              + payload(gid, i)
              + "}",
          200);
      op(w, gid, i, "try");
    }
    CompletableFuture<Void> confirms = participants.expect(gid, "confirm", w.branches);
    send("POST", coordinator + "/api/v1/transactions/" + gid + "/commit", "", 200);
    await(gid, confirms);
    return awaitFinal(gid);
  }

  /** msg: prepare with one message, write locally, commit; done when the inbox has it. */
  private boolean msg(String gid) {
    CompletableFuture<Void> delivered = participants.expect(gid, "inbox", 1);
    send(
        "POST",
        coordinator + "/api/v1/transactions",
        "{\"gid\":\""
            + gid
            + "\",\"mode\":\"msg\",\"timeoutSeconds\":60,\"checkUrl\":\""
            + checkUrl
            + "\",\"messages\":[{\"topic\":\""
            + TOPIC
            + "\",\"key\":\""
            + gid
            + "\",\"payload\":"
            + payload(gid, 1)
            + "}]}",
        201);
    try {
      if (!participants.producerLocalCommit(gid)) {
        throw new BenchException(gid + ": a check-back rolled the producer back first");
      }
    } catch (SQLException e) {
      throw new BenchException(gid + ": producer's local transaction failed: " + e.getMessage(), e);
    }
    send("POST", coordinator + "/api/v1/transactions/" + gid + "/commit", "", 200);
    await(gid, delivered);
    return true;
  }

  /** A parked tcc transaction: begun with a long timeout, never decided. */
  void park(String gid, int timeoutSeconds) {
    send(
        "POST",
        coordinator + "/api/v1/transactions",
        "{\"gid\":\"" + gid + "\",\"mode\":\"tcc\",\"timeoutSeconds\":" + timeoutSeconds + "}",
        201);
  }

  private static String payload(String gid, int branch) {
    return "{\"order\":\"" + gid + "\",\"line\":" + branch + ",\"amount\":100}";
  }

  /** One op of a branch, called over HTTP on the participants; throws if it was not a 200. */
  void op(Workload w, String gid, int branch, String op) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(ops))
            .timeout(CALL_TIMEOUT)
            .header("Content-Type", "application/json")
            .header("Pledge-Gid", gid)
            .header("Pledge-Branch", "b" + branch)
            .header("Pledge-Op", op)
            .header("Pledge-Mode", w.mode)
            .header("Pledge-Attempt", "1")
            .POST(HttpRequest.BodyPublishers.ofString(payload(gid, branch)))
            .build();
    expectStatus(request, 200);
  }

  private void await(String gid, CompletableFuture<Void> future) {
    try {
      future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      participants.forget(gid);
      throw new BenchException(gid + ": its last ops did not arrive within " + CALL_TIMEOUT);
    } catch (ExecutionException e) {
      throw new BenchException(gid + ": " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }

  private boolean awaitFinal(String gid) {
    long deadline = System.nanoTime() + CALL_TIMEOUT.toNanos();
    // A long poll: the coordinator answers as soon as the transaction is final, so one GET is
    // normally enough; a non-final answer (the wait ended first) asks again until the deadline.
    String url = coordinator + "/api/v1/transactions/" + gid + "?waitSeconds=" + LONG_POLL_SECONDS;
    while (true) {
      polls.increment();
      String state = send("GET", url, null, 200);
      if (state.contains("\"final\":true")) {
        return committed(gid, state);
      }
      if (System.nanoTime() > deadline) {
        throw new BenchException(gid + " not final within " + CALL_TIMEOUT + ": " + state);
      }
    }
  }

  private String send(String method, String url, String body, int expected) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(CALL_TIMEOUT)
            .header("Content-Type", "application/json");
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return expectStatus(request.build(), expected);
  }

  private String expectStatus(HttpRequest request, int expected) {
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new BenchException(request.method() + " " + request.uri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
    if (response.statusCode() != expected) {
      throw new BenchException(
          request.method()
              + " "
              + request.uri()
              + " answered "
              + response.statusCode()
              + ": "
              + abbreviate(response.body()));
    }
    return response.body();
  }

  private static String abbreviate(String text) {
    return text.length() <= 300 ? text : text.substring(0, 300) + "…";
  }
}
