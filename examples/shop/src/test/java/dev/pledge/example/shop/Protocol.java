package dev.pledge.example.shop;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The test plays the coordinator: it calls ops with the participant protocol's headers. */
final class Protocol {
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  record Answer(int status, String body) {}

  private Protocol() {}

  static Answer op(String url, String gid, String branch, String op, String payload) {
    return send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .header("Pledge-Gid", gid)
            .header("Pledge-Branch", branch)
            .header("Pledge-Op", op)
            .header("Pledge-Mode", op.equals("action") || op.equals("compensate") ? "saga" : "2pc")
            .header("Pledge-Attempt", "1")
            .POST(HttpRequest.BodyPublishers.ofString(payload))
            .build());
  }

  static Answer deliver(String url, String messageId, String gid, String payload) {
    return send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .header("Pledge-Message-Id", messageId)
            .header("Pledge-Topic", "order-placed")
            .header("Pledge-Gid", gid)
            .POST(HttpRequest.BodyPublishers.ofString(payload))
            .build());
  }

  static Answer get(String url) {
    return send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build());
  }

  private static Answer send(HttpRequest request) {
    try {
      HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      throw new AssertionError(request.uri() + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
