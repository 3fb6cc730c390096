package dev.pledge.server.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.runtime.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;

/**
 * The participant protocol over HTTP with the JDK's client: pooled keep-alive connections, a
 * timeout on every call, no redirects followed, only allow-listed URLs called, at most {@link
 * #MAX_ANSWER_BYTES} of any answer read.
 *
 * <p>An op is {@code POST url} with the payload and headers {@code Pledge-Gid}, {@code
 * Pledge-Branch}, {@code Pledge-Op}, {@code Pledge-Mode}, {@code Pledge-Attempt}: {@code 2xx}
 * succeeded, {@code 409} failed, {@code 425} pending, anything else or no answer unknown.
 * Check-back is {@code GET checkUrl?gid=…} answering {@code {"status": "committed" | "rolled_back"
 * | "pending"}}. A delivery is {@code POST target} with headers {@code Pledge-Message-Id}, {@code
 * Pledge-Topic}, {@code Pledge-Key}, {@code Pledge-Gid}; {@code 2xx} acknowledges it.
 */
public final class HttpEffects implements Transport {
  public static final int MAX_ANSWER_BYTES = 64 * 1024;

  /**
   * The most of a refusal's body kept as the op's {@code lastError}: enough for a reason, too
   * little to turn the log into a copy of what participants send.
   */
  public static final int MAX_ERROR_CHARS = 512;

  private static String abbreviate(String text) {
    return text.length() <= MAX_ERROR_CHARS ? text : text.substring(0, MAX_ERROR_CHARS) + "…";
  }

  private final HttpClient client;
  private final Duration callTimeout;
  private final AllowList allowList;
  private final OutgoingHeaders outgoing;
  private final ObjectMapper json = new ObjectMapper();

  public HttpEffects(Duration callTimeout, AllowList allowList) {
    this(callTimeout, allowList, OutgoingHeaders.NONE);
  }

  /** As {@link #HttpEffects(Duration, AllowList)}, adding {@code outgoing} to calls and checks. */
  public HttpEffects(Duration callTimeout, AllowList allowList, OutgoingHeaders outgoing) {
    this.callTimeout = Objects.requireNonNull(callTimeout, "callTimeout");
    this.allowList = Objects.requireNonNull(allowList, "allowList");
    this.outgoing = Objects.requireNonNull(outgoing, "outgoing");
    Duration connect =
        callTimeout.compareTo(Duration.ofSeconds(5)) < 0 ? callTimeout : Duration.ofSeconds(5);
    this.client =
        HttpClient.newBuilder()
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .connectTimeout(connect)
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  @Override
  public CompletableFuture<Outcome> call(Effect.CallOp call) {
    if (!allowList.allows(call.url())) {
      return refused(call.url());
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(call.url()))
            .timeout(callTimeout)
            .header("Content-Type", "application/json")
            .header("Pledge-Gid", call.gid().value())
            .header("Pledge-Branch", call.branchId())
            .header("Pledge-Op", call.op().label())
            .header("Pledge-Mode", call.mode().code())
            .header("Pledge-Attempt", Integer.toString(call.attempt()));
    outgoing.addTo(request::header);
    return send(request.POST(HttpRequest.BodyPublishers.ofString(call.payload())).build())
        .thenApply(answer -> answer.outcome());
  }

  @Override
  public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
    String url =
        check.checkUrl()
            + (check.checkUrl().contains("?") ? "&" : "?")
            + "gid="
            + URLEncoder.encode(check.gid().value(), StandardCharsets.UTF_8);
    if (!allowList.allows(url)) {
      return refused(url);
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(callTimeout)
            .header("Pledge-Gid", check.gid().value());
    outgoing.addTo(request::header);
    return send(request.GET().build()).thenApply(this::checkOutcome);
  }

  @Override
  public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
    if (!allowList.allows(target)) {
      return refused(target);
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(target))
            .timeout(callTimeout)
            .header("Content-Type", "application/json")
            .header("Pledge-Message-Id", delivery.messageId())
            .header("Pledge-Topic", delivery.topic())
            .header("Pledge-Gid", delivery.gid().value());
    if (delivery.key() != null) {
      request.header("Pledge-Key", headerValue(delivery.key()));
    }
    try {
      delivery.headers().forEach((name, value) -> request.header(name, headerValue(value)));
    } catch (IllegalArgumentException e) {
      // The API refuses such headers; a message stored before it did is reported, not thrown.
      return CompletableFuture.completedFuture(
          new Outcome.Unknown("the message's headers cannot be sent: " + e.getMessage()));
    }
    return send(request.POST(HttpRequest.BodyPublishers.ofString(delivery.payload())).build())
        .thenApply(answer ->
            answer.status() / 100 == 2
                ? Outcome.SUCCEEDED
                : new Outcome.Unknown("HTTP " + answer.status()));
  }

  /**
   * A header value as HTTP carries it: as it is when it is printable ASCII, else as one RFC 2047
   * encoded word of its UTF-8 bytes, {@code =?UTF-8?B?<base64>?=} (HTTP headers are not UTF-8).
   */
  static String headerValue(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return "=?UTF-8?B?"
            + java.util.Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8))
            + "?=";
      }
    }
    return value;
  }

  private static CompletableFuture<Outcome> refused(String url) {
    return CompletableFuture.completedFuture(
        new Outcome.Unknown("URL not on the allow-list: " + url));
  }

  /** An HTTP answer: its status and the first bytes of its body; status 0 means no answer. */
  private record Answer(int status, String body, String error) {
    Outcome outcome() {
      if (status == 0) {
        return new Outcome.Unknown(error);
      }
      if (status / 100 == 2) {
        return Outcome.SUCCEEDED;
      }
      return switch (status) {
        case 409 -> new Outcome.Failed("409 " + abbreviate(body.strip()));
        case 425 -> Outcome.PENDING;
        default -> new Outcome.Unknown("HTTP " + status);
      };
    }
  }

  private CompletableFuture<Answer> send(HttpRequest request) {
    return client
        .sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
        .handle((response, error) -> {
          if (error != null) {
            Throwable cause = error.getCause() != null ? error.getCause() : error;
            return new Answer(
                0,
                "",
                cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
          }
          try (InputStream body = response.body()) {
            byte[] head = body.readNBytes(MAX_ANSWER_BYTES);
            return new Answer(
                response.statusCode(), new String(head, StandardCharsets.UTF_8), null);
          } catch (IOException e) {
            return new Answer(0, "", "reading the answer failed: " + e.getMessage());
          }
        });
  }

  private Outcome checkOutcome(Answer answer) {
    if (answer.status() / 100 != 2) {
      return answer.status() == 0
          ? answer.outcome()
          : new Outcome.Unknown("HTTP " + answer.status());
    }
    try {
      JsonNode status = json.readTree(answer.body()).path("status");
      return switch (status.asText("")) {
        case "committed" -> Outcome.SUCCEEDED;
        case "rolled_back" -> new Outcome.Failed("rolled_back");
        case "pending" -> Outcome.PENDING;
        default -> new Outcome.Unknown("check-back answered status '" + status.asText("") + "'");
      };
    } catch (IOException e) {
      return new Outcome.Unknown("check-back answer is not JSON");
    }
  }
}
