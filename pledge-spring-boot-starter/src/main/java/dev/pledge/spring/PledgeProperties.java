package dev.pledge.spring;

import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Pledge's settings under {@code pledge.*}, checked when bound (a bad value fails the start with a
 * message naming it).
 *
 * @param coordinatorUrl the coordinator's base URL; without it no {@code PledgeClient} is made
 * @param maxAttempts how many times one client call is sent when its answer is unknown (1 to 1000)
 * @param requestTimeout the bound on one answer from the coordinator
 * @param endpoints where the participant endpoints listen
 */
@ConfigurationProperties("pledge")
public record PledgeProperties(
    URI coordinatorUrl,
    @DefaultValue("5") int maxAttempts,
    @DefaultValue("15s") Duration requestTimeout,
    @DefaultValue Endpoints endpoints) {

  public PledgeProperties {
    if (maxAttempts < 1 || maxAttempts > 1000) {
      throw new IllegalArgumentException(
          "pledge.max-attempts must be 1 to 1000, was " + maxAttempts);
    }
    if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException(
          "pledge.request-timeout must be positive, was " + requestTimeout);
    }
  }

  /**
   * The JDK HTTP server that serves the methods annotated with {@link PledgeEndpoint}.
   *
   * @param enabled whether to start it (it starts only if some bean has an annotated method)
   * @param bind the address to listen on
   * @param port the port; 0 picks a free one ({@code PledgeEndpointServer.baseUrl()} says which)
   */
  public record Endpoints(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("127.0.0.1") String bind,
      @DefaultValue("0") int port) {
    public Endpoints {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("pledge.endpoints.port must be 0 to 65535, was " + port);
      }
    }
  }
}
