package dev.pledge.broker.kafka;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A Kafka subscription target, {@code kafka://HOST:PORT/TOPIC} (DESIGN.md, Brokers): the bootstrap
 * server and the topic records go to. The port is 9092 when absent.
 */
public record KafkaTarget(String host, int port, String topic) {
  public static final int DEFAULT_PORT = 9092;

  /** Kafka's own rule for topic names. */
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

  public KafkaTarget {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(topic, "topic");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
    }
    if (!TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw new IllegalArgumentException(
          "topic must match [A-Za-z0-9._-]{1,249} (and not be . or ..), got \"" + topic + "\"");
    }
  }

  /**
   * Parses and checks a target.
   *
   * @throws IllegalArgumentException naming the part of the URI that is wrong and why
   */
  public static KafkaTarget parse(URI uri) {
    Objects.requireNonNull(uri, "uri");
    if (uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).equals("kafka")) {
      throw invalid(uri, "scheme must be kafka");
    }
    if (uri.isOpaque() || uri.getHost() == null) {
      throw invalid(uri, "host is missing: expected kafka://HOST:PORT/TOPIC");
    }
    if (uri.getRawUserInfo() != null) {
      throw invalid(uri, "user information is not supported");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw invalid(uri, "no query or fragment is allowed");
    }
    String path = uri.getPath();
    if (path == null || path.length() < 2) {
      throw invalid(uri, "topic is missing: expected kafka://HOST:PORT/TOPIC");
    }
    String topic = path.substring(1);
    if (topic.contains("/")) {
      throw invalid(uri, "topic must be one path segment");
    }
    try {
      return new KafkaTarget(
          uri.getHost(), uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort(), topic);
    } catch (IllegalArgumentException e) {
      throw invalid(uri, e.getMessage());
    }
  }

  /** {@code HOST:PORT}, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  public URI toUri() {
    return URI.create("kafka://" + bootstrapServers() + "/" + topic);
  }

  private static IllegalArgumentException invalid(URI uri, String why) {
    return new IllegalArgumentException("invalid kafka target " + uri + ": " + why);
  }
}
