package dev.pledge.server.runtime;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Which URLs the coordinator may call. Loopback only by default; otherwise also URLs under one of
 * the configured prefixes (scheme, host, port and a path ending in {@code /}, such as {@code
 * http://orders.internal:8080/}).
 *
 * <p>A URL is compared by its parsed parts, never as text, and the known ways around an allow-list
 * are closed:
 *
 * <ul>
 *   <li><b>user info</b> ({@code http://orders.internal@evil/}, {@code http://u:p@host/}): never
 *       called;
 *   <li><b>numeric hosts other than dotted decimal</b> ({@code 2130706433}, {@code 0x7f.1}, {@code
 *       0177.0.0.1}, {@code 127.1}): refused, since resolvers read them differently; an IPv4 host
 *       must be four decimal numbers without leading zeros;
 *   <li><b>IPv6 forms</b> ({@code [0:0::1]}, {@code [::ffff:127.0.0.1]}, {@code [::ffff:7f00:1]}):
 *       parsed and compared as addresses, so every spelling of loopback is loopback and no spelling
 *       of another address matches a prefix it is not;
 *   <li><b>the unspecified address</b> ({@code 0.0.0.0}, {@code [::]}), which reaches this machine:
 *       never called;
 *   <li><b>dot segments and encoded separators</b> ({@code /orders/../admin}, {@code %2e%2e}): the
 *       path is normalised before it is compared, and encoded dots, slashes and backslashes are
 *       refused under a prefix with a path;
 *   <li><b>DNS names that resolve to this machine or its link</b> (a listed {@code orders.internal}
 *       answering {@code 127.0.0.1}, {@code 0.0.0.0} or {@code 169.254.169.254}): refused when any
 *       address of the name is loopback, unspecified, link-local or multicast. The check resolves
 *       through the JVM's resolver, whose cache (30 s by default) the HTTP client then reads, so
 *       the address checked is the address called;
 *   <li><b>redirects</b>: {@link HttpEffects} follows none; a {@code 3xx} is an unknown answer.
 * </ul>
 */
public final class AllowList {
  /** Resolves a DNS name to its addresses: the JVM's resolver, or a table in tests. */
  @FunctionalInterface
  public interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;
  }

  private static final Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

  /** Four decimal numbers in [0, 255] without leading zeros. */
  private static final Pattern DOTTED_DECIMAL =
      Pattern.compile(
          "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");

  /** A label a resolver may read as a number: decimal, octal or hex. */
  private static final Pattern NUMERIC_LABEL = Pattern.compile("\\d+|0x[0-9a-f]*");

  private static final Pattern ENCODED_SEPARATOR =
      Pattern.compile("%(2e|2f|5c)", Pattern.CASE_INSENSITIVE);

  /** A URL's parts, as compared. */
  private record Target(String scheme, String host, InetAddress literal, int port, String path) {
    boolean isLoopback() {
      return host.equals("localhost") || (literal != null && literal.isLoopbackAddress());
    }
  }

  /** The URLs parsed most recently, at most this many; a participant's few URLs stay in it. */
  private static final int PARSED_CACHE_SIZE = 1024;

  private final List<Target> prefixes;
  private final List<String> texts;
  private final Resolver resolver;

  /**
   * URL → its parts (empty for none): every op call asks about the same few URLs, and parsing one
   * was a measurable part of a call's CPU. Only the parse is kept; a name's DNS answer is asked
   * again on every call ({@link #resolvesAway}).
   */
  private final Map<String, Optional<Target>> parsedCache = new ConcurrentHashMap<>();

  private AllowList(List<Target> prefixes, List<String> texts, Resolver resolver) {
    this.prefixes = List.copyOf(prefixes);
    this.texts = List.copyOf(texts);
    this.resolver = resolver;
  }

  /** Only {@code localhost}, {@code 127.0.0.0/8} and {@code [::1]}. */
  public static AllowList loopbackOnly() {
    return new AllowList(List.of(), List.of(), SYSTEM);
  }

  /**
   * Loopback, and every URL under one of {@code prefixes}.
   *
   * @throws IllegalArgumentException naming the first prefix that is not an absolute {@code http}
   *     or {@code https} URL of a host, without user info, query or fragment, ending in {@code /}
   */
  public static AllowList loopbackAnd(List<String> prefixes) {
    List<Target> parsed = new ArrayList<>();
    for (String prefix : prefixes) {
      Target target = prefix.endsWith("/") ? parse(prefix) : null;
      if (target == null || prefix.contains("?") || prefix.contains("#")) {
        throw new IllegalArgumentException(
            "allow-list prefix must be an absolute http(s) URL of a host, without user info, query"
                + " or fragment, ending in '/', got '"
                + prefix
                + "'");
      }
      parsed.add(target);
    }
    return new AllowList(parsed, prefixes, SYSTEM);
  }

  /** This list, resolving DNS names with {@code resolver} instead of the JVM's resolver. */
  public AllowList withResolver(Resolver resolver) {
    return new AllowList(prefixes, texts, Objects.requireNonNull(resolver, "resolver"));
  }

  /** The configured prefixes, as given. */
  public List<String> prefixes() {
    return texts;
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
    for (String prefix : texts) {
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
    Optional<Target> cached = parsedCache.get(url);
    if (cached == null) {
      cached = Optional.ofNullable(parse(url));
      if (parsedCache.size() >= PARSED_CACHE_SIZE) {
        parsedCache.clear();
      }
      parsedCache.put(url, cached);
    }
    Target target = cached.orElse(null);
    if (target == null) {
      return false;
    }
    if (target.isLoopback()) {
      return true;
    }
    for (Target prefix : prefixes) {
      if (prefix.scheme().equals(target.scheme())
          && prefix.host().equals(target.host())
          && prefix.port() == target.port()
          && target.path().startsWith(prefix.path())
          && (prefix.path().equals("/") || !ENCODED_SEPARATOR.matcher(url).find())) {
        return target.literal() != null || resolvesAway(target.host());
      }
    }
    return false;
  }

  /** Whether every address of {@code host} is one the coordinator may call by a name. */
  private boolean resolvesAway(String host) {
    List<InetAddress> addresses;
    try {
      addresses = resolver.resolve(host);
    } catch (UnknownHostException e) {
      return false; // not callable now; the call is answered unknown and retried
    }
    if (addresses.isEmpty()) {
      return false;
    }
    for (InetAddress address : addresses) {
      if (address.isLoopbackAddress()
          || address.isAnyLocalAddress()
          || address.isLinkLocalAddress()
          || address.isMulticastAddress()) {
        return false;
      }
    }
    return true;
  }

  /** The URL's parts, or null when it is not one the coordinator would ever call. */
  private static Target parse(String url) {
    URI uri;
    try {
      uri = new URI(url).normalize();
    } catch (Exception e) {
      return null;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if ((!scheme.equals("http") && !scheme.equals("https"))
        || uri.getRawUserInfo() != null
        || uri.getHost() == null
        || uri.getRawAuthority() == null
        || uri.getRawAuthority().contains("@")) {
      return null;
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    InetAddress literal = null;
    if (host.startsWith("[")) {
      if (host.contains("%")) {
        return null; // a zone id names an interface, not a participant
      }
      try {
        literal = InetAddress.getByName(host); // a literal: parsed, never looked up
      } catch (UnknownHostException e) {
        return null;
      }
    } else if (DOTTED_DECIMAL.matcher(host).matches()) {
      try {
        literal = InetAddress.getByName(host);
      } catch (UnknownHostException e) {
        return null;
      }
    } else {
      String[] labels = host.split("\\.", -1);
      if (NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches()) {
        return null; // 2130706433, 0x7f.1, 0177.0.0.1, 127.1: numeric, but not dotted decimal
      }
    }
    if (literal != null) {
      if (literal.isAnyLocalAddress()) {
        return null; // 0.0.0.0 and [::] reach this machine
      }
      host = literal.getHostAddress(); // one spelling per address
    }
    int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (path.startsWith("/..")) {
      return null; // dot segments above the root
    }
    return new Target(scheme, host, literal, port, path);
  }
}
