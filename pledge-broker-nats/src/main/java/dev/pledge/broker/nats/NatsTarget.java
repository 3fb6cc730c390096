package dev.pledge.broker.nats;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A NATS JetStream subscription target, {@code nats://HOST:PORT/SUBJECT} (DESIGN.md, Brokers): the
 * server and the subject messages are published on. The port is 4222 when absent. The subject is a
 * publish subject: dot-separated tokens, no wildcards.
 */
public record NatsTarget(String host, int port, String subject) {
  public static final int DEFAULT_PORT = 4222;

  private static final Pattern SUBJECT = Pattern.compile("[A-Za-z0-9_:-]+(\\.[A-Za-z0-9_:-]+)*");

  public NatsTarget {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(subject, "subject");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
    }
    if (subject.length() > 255 || !SUBJECT.matcher(subject).matches()) {
      throw new IllegalArgumentException(
          "subject must be dot-separated tokens of [A-Za-z0-9_:-], no wildcards, at most 255"
              + " characters, got \""
              + subject
              + "\"");
    }
  }

  /**
   * Parses and checks a target.
   *
   * @throws IllegalArgumentException naming the part of the URI that is wrong and why
   */
  public static NatsTarget parse(URI uri) {
    Objects.requireNonNull(uri, "uri");
    if (uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).equals("nats")) {
      throw invalid(uri, "scheme must be nats");
    }
    if (uri.isOpaque() || uri.getHost() == null) {
      throw invalid(uri, "host is missing: expected nats://HOST:PORT/SUBJECT");
    }
    if (uri.getRawUserInfo() != null) {
      throw invalid(uri, "user information is not supported");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw invalid(uri, "no query or fragment is allowed");
    }
    String path = uri.getPath();
    if (path == null || path.length() < 2) {
      throw invalid(uri, "subject is missing: expected nats://HOST:PORT/SUBJECT");
    }
    String subject = path.substring(1);
    if (subject.contains("/")) {
      throw invalid(uri, "subject must be one path segment (tokens are separated by dots)");
    }
    try {
      return new NatsTarget(
          uri.getHost(), uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort(), subject);
    } catch (IllegalArgumentException e) {
      throw invalid(uri, e.getMessage());
    }
  }

  /** {@code nats://HOST:PORT}, for the client's options. */
  public String server() {
    return "nats://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  public URI toUri() {
    return URI.create(server() + "/" + subject);
  }

  private static IllegalArgumentException invalid(URI uri, String why) {
    return new IllegalArgumentException("invalid nats target " + uri + ": " + why);
  }
}
