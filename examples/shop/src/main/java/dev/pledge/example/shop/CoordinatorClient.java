package dev.pledge.example.shop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The coordinator's HTTP API v1 as a shop service calls it: plain JSON over the JDK's client.
 *
 * <p>A call that gets no answer (connection refused while the coordinator restarts, a timeout) or a
 * 5xx is sent again after a capped backoff, until {@code retryBound} has passed since the first
 * attempt; then it fails with {@link ShopException}. Sending again is safe: creating a transaction
 * is idempotent on its gid, and a commit of a committed transaction is answered again.
 */
public final class CoordinatorClient {
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
  private static final long FIRST_BACKOFF_MILLIS = 50;
  private static final long MAX_BACKOFF_MILLIS = 500;

  /** An answer from the API: its status and JSON body. */
  public record Answer(int status, JsonNode body) {}

  private final String baseUrl;
  private final Duration retryBound;
  private final HttpClient client;
  private final AtomicLong retries = new AtomicLong();

  public CoordinatorClient(String baseUrl, Duration retryBound) {
    this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
    this.retryBound = Objects.requireNonNull(retryBound, "retryBound");
    if (retryBound.isNegative() || retryBound.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException("retryBound must be in [0, 10 min], got " + retryBound);
    }
    this.client =
        HttpClient.newBuilder()
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .connectTimeout(Duration.ofSeconds(2))
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  public String baseUrl() {
    return baseUrl;
  }

  /** Calls sent again after no answer or a 5xx, so far. */
  public long retries() {
    return retries.get();
  }

  /** {@code POST /api/v1/transactions}: 201 {@code {gid, status}}, or a 4xx with its error. */
  public Answer create(ObjectNode transaction) {
    return send("POST", "/api/v1/transactions", Json.write(transaction));
  }

  /** {@code GET /api/v1/transactions/{gid}}: 200 with the transaction, or 404. */
  public Answer get(String gid) {
    return send("GET", "/api/v1/transactions/" + encode(gid), null);
  }

  /** {@code POST /api/v1/transactions/{gid}/commit}: 200, or 409 when it is decided otherwise. */
  public Answer commit(String gid) {
    return send("POST", "/api/v1/transactions/" + encode(gid) + "/commit", "");
  }

  /** {@code PUT /api/v1/subscriptions/{name}}. */
  public Answer subscribe(String name, String topic, String target) {
    ObjectNode body = Json.object();
    body.put("topic", topic);
    body.put("target", target);
    return send("PUT", "/api/v1/subscriptions/" + encode(name), Json.write(body));
  }

  /** Every transaction with {@code status}, following the cursor, newest first. */
  public List<JsonNode> list(String status) {
    List<JsonNode> out = new ArrayList<>();
    String cursor = null;
    for (int page = 0; page < 10_000; page++) {
      String path =
          "/api/v1/transactions?limit=500&status="
              + encode(status)
              + (cursor == null ? "" : "&cursor=" + encode(cursor));
      Answer answer = send("GET", path, null);
      if (answer.status() != 200) {
        throw new ShopException("listing " + status + " transactions answered " + answer);
      }
      answer.body().path("items").forEach(out::add);
      JsonNode next = answer.body().get("nextCursor");
      if (next == null || next.isNull()) {
        return out;
      }
      cursor = next.asText();
    }
    throw new ShopException("listing " + status + " transactions did not end after 10000 pages");
  }

  /** Whether the coordinator answers {@code GET /health} right now (one attempt, no retry). */
  public boolean healthy() {
    try {
      HttpResponse<String> response =
          client.send(
              HttpRequest.newBuilder(URI.create(baseUrl + "/health"))
                  .timeout(Duration.ofSeconds(2))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private Answer send(String method, String path, String body) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(CALL_TIMEOUT);
    if (body != null) {
      builder.header("Content-Type", "application/json");
    }
    HttpRequest request =
        builder
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    long deadline = System.nanoTime() + retryBound.toNanos();
    long backoffMillis = FIRST_BACKOFF_MILLIS;
    String last;
    while (true) {
      try {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() < 500) {
          JsonNode json =
              response.body().isEmpty() ? Json.object() : Json.MAPPER.readTree(response.body());
          return new Answer(response.statusCode(), json);
        }
        last = "HTTP " + response.statusCode() + " " + response.body();
      } catch (IOException e) {
        last = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ShopException(method + " " + path + " was interrupted", e);
      }
      if (System.nanoTime() + backoffMillis * 1_000_000 > deadline) {
        throw new ShopException(
            method + " " + path + " got no answer within " + retryBound + "; last: " + last);
      }
      retries.incrementAndGet();
      try {
        Thread.sleep(backoffMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ShopException(method + " " + path + " was interrupted", e);
      }
      backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
    }
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
