package dev.pledge.broker.nats;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.time.Duration;

/**
 * The NATS server with JetStream on this machine (scripts/services.sh), on loopback. A test that
 * needs it fails when it is not there; it is never skipped.
 */
final class NatsServer {
  static final String HOST = "127.0.0.1";
  static final int PORT = 4222;

  private NatsServer() {}

  static Connection connect() {
    try {
      return Nats.connect(
          Options.builder()
              .server("nats://" + HOST + ":" + PORT)
              .connectionTimeout(Duration.ofSeconds(5))
              .build());
    } catch (IOException e) {
      throw new IllegalStateException(
          "NATS is not reachable at " + HOST + ":" + PORT + " (run scripts/services.sh)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
