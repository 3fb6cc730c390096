package dev.pledge.lratck;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.eclipse.microprofile.lra.tck.service.spi.LRACallbackException;
import org.eclipse.microprofile.lra.tck.service.spi.LRARecoveryService;

/**
 * The TCK's view of Pledge's recovery: an LRA's callbacks are done when Pledge answers {@code 404}
 * for it (it has ended: every participant completed or compensated, forgot and heard the end), and
 * "recover now" is {@code GET /lra-coordinator/recovery}, which sends every waiting call at once.
 */
public final class PledgeRecoveryService implements LRARecoveryService {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Override
  public void waitForCallbacks(URI lraId) throws LRACallbackException {
    for (int i = 0; i < 10; i++) {
      if (get(lraId).statusCode() == 404) {
        return;
      }
      sleep(100);
    }
  }

  @Override
  public boolean waitForEndPhaseReplay(URI lraId) throws LRACallbackException {
    String coordinator = System.getProperty("lra.coordinator.url");
    String uid = lraId.getPath().substring(lraId.getPath().lastIndexOf('/') + 1);
    String recovering = get(URI.create(coordinator + "/recovery")).body();
    if (recovering.contains(uid)) {
      return false;
    }
    return !get(URI.create(coordinator)).body().contains(uid);
  }

  private static HttpResponse<String> get(URI uri) throws LRACallbackException {
    try {
      return CLIENT.send(
          HttpRequest.newBuilder(uri)
              .timeout(Duration.ofSeconds(30))
              .header("Narayana-LRA-API-version", "1.2")
              .header("Accept", "application/json")
              .GET()
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new LRACallbackException("GET " + uri + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LRACallbackException("interrupted", e);
    }
  }

  private static void sleep(long millis) throws LRACallbackException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LRACallbackException("interrupted", e);
    }
  }
}
