package dev.pledge.client;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link PledgeClient} talks to the coordinator; checked when built, with messages naming the
 * field and value.
 *
 * @param coordinator the coordinator's base URL, {@code http://127.0.0.1:7878}
 * @param connectTimeout bound on opening a connection (at most 1 min)
 * @param requestTimeout bound on one request's answer (at most 5 min); a long poll adds its wait
 * @param maxAttempts how many times one call is sent in all when the answer is unknown (a transport
 *     error, a {@code 5xx}), 1 to 20; every call the client retries is idempotent
 * @param firstBackoff the wait before the second attempt, doubled up to {@code maxBackoff}
 * @param maxBackoff the longest wait between two attempts (at most 1 min)
 */
public record PledgeClientConfig(
    URI coordinator,
    Duration connectTimeout,
    Duration requestTimeout,
    int maxAttempts,
    Duration firstBackoff,
    Duration maxBackoff) {

  public PledgeClientConfig {
    Objects.requireNonNull(coordinator, "coordinator");
    String scheme = coordinator.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException(
          "coordinator must be an http:// or https:// URL, was " + coordinator);
    }
    if (coordinator.getHost() == null) {
      throw new IllegalArgumentException("coordinator has no host: " + coordinator);
    }
    check("connectTimeout", connectTimeout, Duration.ofMinutes(1));
    check("requestTimeout", requestTimeout, Duration.ofMinutes(5));
    check("firstBackoff", firstBackoff, Duration.ofMinutes(1));
    check("maxBackoff", maxBackoff, Duration.ofMinutes(1));
    if (maxAttempts < 1 || maxAttempts > 20) {
      throw new IllegalArgumentException("maxAttempts must be 1 to 20, was " + maxAttempts);
    }
    if (firstBackoff.compareTo(maxBackoff) > 0) {
      throw new IllegalArgumentException(
          "firstBackoff (" + firstBackoff + ") must not exceed maxBackoff (" + maxBackoff + ")");
    }
    String text = coordinator.toString();
    coordinator = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
  }

  /**
   * The defaults: connect within 5 s, answers within 15 s, 5 attempts with 100 ms, 200 ms, 400 ms,
   * 800 ms between them.
   */
  public static PledgeClientConfig of(URI coordinator) {
    return new PledgeClientConfig(
        coordinator,
        Duration.ofSeconds(5),
        Duration.ofSeconds(15),
        5,
        Duration.ofMillis(100),
        Duration.ofSeconds(2));
  }

  public static PledgeClientConfig of(String coordinator) {
    return of(URI.create(coordinator));
  }

  public PledgeClientConfig withMaxAttempts(int attempts) {
    return new PledgeClientConfig(
        coordinator, connectTimeout, requestTimeout, attempts, firstBackoff, maxBackoff);
  }

  public PledgeClientConfig withTimeouts(Duration connect, Duration request) {
    return new PledgeClientConfig(
        coordinator, connect, request, maxAttempts, firstBackoff, maxBackoff);
  }

  public PledgeClientConfig withBackoff(Duration first, Duration max) {
    return new PledgeClientConfig(
        coordinator, connectTimeout, requestTimeout, maxAttempts, first, max);
  }

  private static void check(String field, Duration value, Duration max) {
    Objects.requireNonNull(value, field);
    if (value.isNegative() || value.isZero() || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          field + " must be positive and at most " + max + ", was " + value);
    }
  }
}
