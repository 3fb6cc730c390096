package dev.pledge.broker.rabbitmq;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A RabbitMQ subscription target, {@code amqp://USER:PASS@HOST:PORT/VHOST?exchange=NAME}
 * (DESIGN.md, Brokers): the virtual host URL-encoded ({@code %2F} for {@code /}), the port 5672
 * when absent. Messages go to exchange NAME, a durable {@code topic} exchange declared when absent,
 * with the message's topic as routing key.
 *
 * <p>{@link #toString()} never shows the password.
 */
public record AmqpTarget(
    String user, String password, String host, int port, String virtualHost, String exchange) {
  public static final int DEFAULT_PORT = 5672;

  /** AMQP 0-9-1 short strings are at most 255 bytes; RabbitMQ names use these characters. */
  private static final Pattern EXCHANGE = Pattern.compile("[A-Za-z0-9._:-]{1,255}");

  public AmqpTarget {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(virtualHost, "virtualHost");
    Objects.requireNonNull(exchange, "exchange");
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be in [1, 65535], got " + port);
    }
    if (!EXCHANGE.matcher(exchange).matches()) {
      throw new IllegalArgumentException(
          "exchange must match [A-Za-z0-9._:-]{1,255} (and not start with amq.), got \""
              + exchange
              + "\"");
    }
    if (exchange.startsWith("amq.")) {
      throw new IllegalArgumentException(
          "exchange must not start with amq. (reserved by RabbitMQ), got \"" + exchange + "\"");
    }
  }

  /**
   * Parses and checks a target.
   *
   * @throws IllegalArgumentException naming the part of the URI that is wrong and why
   */
  public static AmqpTarget parse(URI uri) {
    Objects.requireNonNull(uri, "uri");
    String shown = redacted(uri);
    if (uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).equals("amqp")) {
      throw invalid(shown, "scheme must be amqp");
    }
    if (uri.isOpaque()) {
      throw invalid(shown, "expected amqp://USER:PASS@HOST:PORT/VHOST?exchange=NAME");
    }
    if (uri.getHost() == null || uri.getHost().isBlank()) {
      throw invalid(shown, "host is missing");
    }
    String userInfo = uri.getRawUserInfo();
    if (userInfo == null || userInfo.indexOf(':') < 0) {
      throw invalid(shown, "user and password are missing: write USER:PASS@ before the host");
    }
    String user = decode(userInfo.substring(0, userInfo.indexOf(':')));
    String password = decode(userInfo.substring(userInfo.indexOf(':') + 1));
    if (user.isEmpty()) {
      throw invalid(shown, "user is empty");
    }
    int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
    String path = uri.getRawPath();
    if (path == null || path.length() < 2 || !path.startsWith("/")) {
      throw invalid(shown, "virtual host is missing: write /%2F for the default virtual host /");
    }
    String rawVhost = path.substring(1);
    if (rawVhost.contains("/")) {
      throw invalid(shown, "virtual host must be one path segment, URL-encoded (%2F for /)");
    }
    if (uri.getRawFragment() != null) {
      throw invalid(shown, "a fragment (#...) is not allowed");
    }
    String exchange = null;
    String query = uri.getRawQuery();
    if (query != null && !query.isEmpty()) {
      for (String parameter : query.split("&", -1)) {
        int eq = parameter.indexOf('=');
        String name = eq < 0 ? parameter : parameter.substring(0, eq);
        String value = eq < 0 ? "" : decode(parameter.substring(eq + 1));
        if (!name.equals("exchange")) {
          throw invalid(shown, "unknown parameter \"" + name + "\" (only exchange is allowed)");
        }
        if (exchange != null) {
          throw invalid(shown, "parameter exchange is given twice");
        }
        exchange = value;
      }
    }
    if (exchange == null || exchange.isEmpty()) {
      throw invalid(shown, "parameter exchange is missing: add ?exchange=NAME");
    }
    try {
      return new AmqpTarget(user, password, uri.getHost(), port, decode(rawVhost), exchange);
    } catch (IllegalArgumentException e) {
      throw invalid(shown, e.getMessage());
    }
  }

  /** The target as a URI, with the password. */
  public URI toUri() {
    return URI.create(
        "amqp://"
            + encode(user)
            + ":"
            + encode(password)
            + "@"
            + (host.contains(":") ? "[" + host + "]" : host)
            + ":"
            + port
            + "/"
            + encode(virtualHost)
            + "?exchange="
            + encode(exchange));
  }

  @Override
  public String toString() {
    return "amqp://"
        + user
        + ":***@"
        + host
        + ":"
        + port
        + "/"
        + encode(virtualHost)
        + "?exchange="
        + exchange;
  }

  private static IllegalArgumentException invalid(String uri, String why) {
    return new IllegalArgumentException("invalid amqp target " + uri + ": " + why);
  }

  /** The URI as a user may see it: the password replaced. */
  static String redacted(URI uri) {
    String text = uri.toString();
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && userInfo.indexOf(':') >= 0) {
      text = text.replace(userInfo, userInfo.substring(0, userInfo.indexOf(':')) + ":***");
    }
    return text;
  }

  private static String decode(String text) {
    return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String encode(String text) {
    return java.net.URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
