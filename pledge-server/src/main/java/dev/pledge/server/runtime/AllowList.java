package dev.pledge.server.runtime;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Which URLs the coordinator may call. Loopback only by default; otherwise URLs that start with one
 * of the configured prefixes (scheme, host and port, such as {@code http://orders.internal:8080/}).
 */
public final class AllowList {
  private final List<String> prefixes;

  private AllowList(List<String> prefixes) {
    this.prefixes = List.copyOf(prefixes);
  }

  /** Only {@code localhost}, {@code 127.0.0.0/8} and {@code [::1]}. */
  public static AllowList loopbackOnly() {
    return new AllowList(List.of());
  }

  /** Loopback, and every URL starting with one of {@code prefixes}. */
  public static AllowList loopbackAnd(List<String> prefixes) {
    for (String prefix : prefixes) {
      URI uri = URI.create(prefix);
      if (uri.getScheme() == null || uri.getHost() == null || !prefix.endsWith("/")) {
        throw new IllegalArgumentException(
            "allow-list prefix must be an absolute http(s) URL ending in '/', got '"
                + prefix
                + "'");
      }
    }
    return new AllowList(prefixes);
  }

  /**
   * Whether the coordinator may publish to a broker target ({@code amqp://user:pass@host:port/…}):
   * its host is loopback, or the target without its user information starts with a prefix (an
   * operator allows a broker with, say, {@code amqp://rabbit.internal:5672/}).
   */
  public boolean allowsBroker(String target) {
    URI uri;
    try {
      uri = URI.create(target);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (uri.getScheme() == null || uri.getHost() == null) {
      return false;
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (isLoopback(host)) {
      return true;
    }
    String bare =
        uri.getScheme().toLowerCase(Locale.ROOT)
            + "://"
            + host
            + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
            + (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath());
    for (String prefix : prefixes) {
      if (bare.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost")
        || host.equals("[::1]")
        || host.equals("::1")
        || host.matches("127(\\.\\d{1,3}){3}");
  }

  public boolean allows(String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      return false;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if ((!scheme.equals("http") && !scheme.equals("https")) || uri.getUserInfo() != null) {
      return false;
    }
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    if (host.equals("localhost")
        || host.equals("[::1]")
        || host.equals("::1")
        || host.matches("127(\\.\\d{1,3}){3}")) {
      return true;
    }
    for (String prefix : prefixes) {
      if (url.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
