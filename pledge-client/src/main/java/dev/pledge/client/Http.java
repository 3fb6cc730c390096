package dev.pledge.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's only HTTP code: one pooled JDK {@link HttpClient} (HTTP/1.1 keep-alive), bounded
 * timeouts, and the retry of unknown answers with backoff. Every request sent through {@link #call}
 * must be idempotent, since an unknown answer (transport error, {@code 5xx}) is sent again.
 */
final class Http implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(Http.class);
  private static final int MAX_ANSWER_BYTES = 16 * 1024 * 1024;

  /** One definite answer: a status below 500 and its parsed body (a missing node when empty). */
  record Answer(int status, JsonNode body, String text) {}

  private final PledgeClientConfig config;
  private final HttpClient client;

  Http(PledgeClientConfig config) {
    this.config = config;
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  PledgeClientConfig config() {
    return config;
  }

  /**
   * Sends {@code method path} to the coordinator and answers its definite answer, retrying unknown
   * ones within the configured attempts.
   *
   * @throws PledgeRejectedException for a 4xx
   * @throws PledgeUnavailableException when no attempt got a definite answer
   */
  Answer coordinator(String gid, String method, String pathAndQuery, Object body, Duration extra) {
    URI uri = URI.create(config.coordinator() + pathAndQuery);
    Answer answer = call(gid, method + " " + pathAndQuery, uri, body, attempt -> Map.of(), extra);
    if (answer.status() >= 400) {
      throw rejected(gid, answer);
    }
    return answer;
  }

  /**
   * Like {@link #coordinator}, but to any URL (a tcc try), with headers per attempt (numbered from
   * 1); a 4xx other than 425 is answered, not thrown.
   */
  Answer call(
      String gid,
      String what,
      URI uri,
      Object body,
      IntFunction<Map<String, String>> headers,
      Duration extraWait) {
    byte[] bytes;
    try {
      bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the request body cannot be written as JSON: " + e, e);
    }
    String method = what.substring(0, what.indexOf(' '));
    Duration backoff = config.firstBackoff();
    Throwable last = null;
    for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
      if (attempt > 1) {
        pause(backoff);
        backoff = backoff.multipliedBy(2);
        if (backoff.compareTo(config.maxBackoff()) > 0) {
          backoff = config.maxBackoff();
        }
      }
      HttpRequest.Builder request =
          HttpRequest.newBuilder(uri)
              .timeout(config.requestTimeout().plus(extraWait))
              .header("Content-Type", "application/json")
              .method(
                  method,
                  body == null && !method.equals("POST") && !method.equals("PUT")
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(bytes));
      headers.apply(attempt).forEach(request::header);
      try {
        HttpResponse<byte[]> response =
            client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        byte[] raw = response.body();
        String text =
            new String(
                raw,
                0,
                Math.min(raw.length, MAX_ANSWER_BYTES),
                java.nio.charset.StandardCharsets.UTF_8);
        // 5xx, and 425 (pending, which only a participant answers), are unknown: ask again.
        if (response.statusCode() >= 500 || response.statusCode() == 425) {
          last = new IOException("HTTP " + response.statusCode() + " " + abbreviate(text));
          LOG.debug("{} attempt {}: {}", what, attempt, last.getMessage());
          continue;
        }
        return new Answer(response.statusCode(), parse(text), text);
      } catch (IOException e) {
        last = e;
        LOG.debug("{} attempt {}: {}", what, attempt, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PledgeUnavailableException(gid, what + " (interrupted)", attempt, e);
      }
    }
    throw new PledgeUnavailableException(
        gid,
        what + " (last: " + (last == null ? "none" : last.getMessage()) + ")",
        config.maxAttempts(),
        last);
  }

  static PledgeRejectedException rejected(String gid, Answer answer) {
    JsonNode body = answer.body();
    List<PledgeRejectedException.FieldError> fields = new ArrayList<>();
    for (JsonNode f : body.path("fields")) {
      fields.add(
          new PledgeRejectedException.FieldError(
              f.path("field").asText(), f.path("reason").asText()));
    }
    return new PledgeRejectedException(
        gid,
        answer.status(),
        body.path("error").asText("http_" + answer.status()),
        body.path("message").asText(abbreviate(answer.text())),
        fields);
  }

  private static JsonNode parse(String text) {
    if (text.isBlank()) {
      return JSON.missingNode();
    }
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return JSON.missingNode();
    }
  }

  static void pause(Duration wait) {
    try {
      Thread.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PledgeUnavailableException(null, "interrupted while backing off", 0, e);
    }
  }

  static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "…";
  }

  @Override
  public void close() {
    client.close();
  }
}
