package dev.pledge.broker.rabbitmq;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The RabbitMQ on this machine (scripts/services.sh): loopback, guest/guest. A test that needs it
 * fails when it is not there; it is never skipped.
 */
final class RabbitMqBroker {
  static final String HOST = "127.0.0.1";
  static final int PORT = 5672;

  private RabbitMqBroker() {}

  /** A plain connection of the official client, straight to the broker. */
  static Connection connect(String name) {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(HOST);
    factory.setPort(PORT);
    factory.setUsername("guest");
    factory.setPassword("guest");
    factory.setConnectionTimeout(5_000);
    try {
      return factory.newConnection(name);
    } catch (IOException | TimeoutException e) {
      throw new IllegalStateException(
          "RabbitMQ is not reachable at " + HOST + ":" + PORT + " (run scripts/services.sh)", e);
    }
  }

  static URI target(String host, int port, String exchange) {
    return URI.create("amqp://guest:guest@" + host + ":" + port + "/%2F?exchange=" + exchange);
  }

  /**
   * Closes, from the broker's side, every connection whose client-given name contains {@code part},
   * with {@code rabbitmqctl}; answers how many.
   */
  static int closeConnectionsNamed(String part) {
    String listing =
        rabbitmqctl("list_connections", "-q", "--no-table-headers", "pid", "client_properties");
    int closed = 0;
    for (String line : listing.split("\n")) {
      if (line.contains(part)) {
        String pid = line.substring(0, line.indexOf((char) 9));
        rabbitmqctl("close_connection", pid, "closed by a Pledge fault test");
        closed++;
      }
    }
    return closed;
  }

  static String rabbitmqctl(String... arguments) {
    List<String> command = new java.util.ArrayList<>();
    command.add("rabbitmqctl");
    command.addAll(List.of(arguments));
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException(
            command + " failed: " + new String(output, StandardCharsets.UTF_8));
      }
      return new String(output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("rabbitmqctl is needed for this fault test", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
