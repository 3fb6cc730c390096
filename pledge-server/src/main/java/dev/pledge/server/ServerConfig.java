package dev.pledge.server;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;

/**
 * The server's whole configuration, immutable, checked when made: every message names the field and
 * the value. It comes from, first to last: a flag ({@code --port 7878}), an environment variable
 * ({@code PLEDGE_PORT=7878}), a properties file ({@code --config FILE}, {@code port=7878}), the
 * default. The server prints it once at start; the database password ({@code PLEDGE_DB_PASSWORD})
 * is never part of it, so never printed.
 *
 * @param bind the address to listen on
 * @param port the HTTP port (0 picks a free one)
 * @param dataDir the folder of the embedded SQLite log, used when {@code db} is null
 * @param db a JDBC URL of PostgreSQL or MariaDB, or null for the embedded log
 * @param dbUser the database user, or null
 * @param allow URL prefixes, beyond loopback, that participants may live under
 * @param pollInterval how often to claim due work from the log
 * @param maxOwned the most unsettled transactions held in memory
 * @param maxEffectsInFlight calls awaiting answers past which new transactions are refused
 * @param maxLongPolls long polls waiting at once
 * @param maxRequests HTTP requests handled at once
 */
public record ServerConfig(
    String bind,
    int port,
    Path dataDir,
    String db,
    String dbUser,
    List<String> allow,
    Duration pollInterval,
    int maxOwned,
    int maxEffectsInFlight,
    int maxLongPolls,
    int maxRequests) {

  /** The names a value can be given by: flag (without {@code --}), file key, env suffix. */
  static final Set<String> KEYS =
      Set.of(
          "bind",
          "port",
          "data-dir",
          "db",
          "db-user",
          "allow",
          "poll-millis",
          "max-owned",
          "max-effects-in-flight",
          "max-long-polls",
          "max-requests");

  private static final Map<String, String> DEFAULTS =
      Map.ofEntries(
          Map.entry("bind", "127.0.0.1"),
          Map.entry("port", "7878"),
          Map.entry("data-dir", "data"),
          Map.entry("allow", ""),
          Map.entry("poll-millis", "200"),
          Map.entry("max-owned", "100000"),
          Map.entry("max-effects-in-flight", "20000"),
          Map.entry("max-long-polls", "512"),
          Map.entry("max-requests", "1024"));

  public ServerConfig {
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(dataDir, "dataDir");
    allow = List.copyOf(allow);
    check(!bind.isBlank(), "bind", bind, "must name an address");
    check(port >= 0 && port <= 65_535, "port", port, "must be in [0, 65535]");
    check(
        db == null
            || db.startsWith("jdbc:postgresql:")
            || db.startsWith("jdbc:mariadb:")
            || db.startsWith("jdbc:sqlite:"),
        "db",
        db,
        "must be a jdbc:postgresql:, jdbc:mariadb: or jdbc:sqlite: URL");
    for (String prefix : allow) {
      check(
          prefix.startsWith("http://") || prefix.startsWith("https://"),
          "allow",
          prefix,
          "must be an http:// or https:// URL prefix");
    }
    Objects.requireNonNull(pollInterval, "pollInterval");
    check(
        pollInterval.toMillis() >= 1 && pollInterval.toMillis() <= 60_000,
        "poll-millis",
        pollInterval.toMillis(),
        "must be in [1, 60000]");
    check(
        maxOwned >= 0 && maxOwned <= 10_000_000, "max-owned", maxOwned, "must be in [0, 10000000]");
    check(
        maxEffectsInFlight >= 1 && maxEffectsInFlight <= 1_000_000,
        "max-effects-in-flight",
        maxEffectsInFlight,
        "must be in [1, 1000000]");
    check(
        maxRequests >= 2 && maxRequests <= 1024,
        "max-requests",
        maxRequests,
        "must be in [2, 1024]");
    check(
        maxLongPolls >= 1 && maxLongPolls < maxRequests,
        "max-long-polls",
        maxLongPolls,
        "must be in [1, max-requests - 1 = " + (maxRequests - 1) + "]");
  }

  /**
   * The configuration from {@code flags} (by key, as given on the command line), then {@code env}
   * ({@code PLEDGE_<KEY>}, dashes as underscores), then the properties file {@code file} (null:
   * none), then the defaults.
   *
   * @throws IllegalArgumentException naming the field, the value and where it came from
   */
  public static ServerConfig resolve(
      Map<String, String> flags, Map<String, String> env, Path file) {
    Map<String, String> fromFile = file == null ? Map.of() : readFile(file);
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, String> origin = new LinkedHashMap<>();
    for (String key : KEYS) {
      String envName = "PLEDGE_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
      if (flags.get(key) != null) {
        values.put(key, flags.get(key));
        origin.put(key, "--" + key);
      } else if (env.get(envName) != null) {
        values.put(key, env.get(envName));
        origin.put(key, envName);
      } else if (fromFile.get(key) != null) {
        values.put(key, fromFile.get(key));
        origin.put(key, file + ": " + key);
      } else if (DEFAULTS.containsKey(key)) {
        values.put(key, DEFAULTS.get(key));
        origin.put(key, "the default of " + key);
      }
    }
    for (String key : flags.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown setting --" + key);
      }
    }
    try {
      List<String> allow = new ArrayList<>();
      for (String prefix : values.get("allow").split(",", -1)) {
        if (!prefix.isBlank()) {
          allow.add(prefix.strip());
        }
      }
      return new ServerConfig(
          values.get("bind"),
          integer(values, origin, "port"),
          Path.of(values.get("data-dir")),
          blankToNull(values.get("db")),
          blankToNull(values.get("db-user")),
          allow,
          Duration.ofMillis(integer(values, origin, "poll-millis")),
          integer(values, origin, "max-owned"),
          integer(values, origin, "max-effects-in-flight"),
          integer(values, origin, "max-long-polls"),
          integer(values, origin, "max-requests"));
    } catch (IllegalArgumentException e) {
      String field = e.getMessage().split(" ", 2)[0];
      String from = origin.get(field);
      throw new IllegalArgumentException(
          e.getMessage() + (from == null ? "" : " (from " + from + ")"), e);
    }
  }

  private static Map<String, String> readFile(Path file) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "config could not read the file " + file + ": " + e.getMessage(), e);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String key : properties.stringPropertyNames()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "config " + file + " has an unknown key '" + key + "'; known: " + KEYS);
      }
      out.put(key, properties.getProperty(key).strip());
    }
    return out;
  }

  private static int integer(Map<String, String> values, Map<String, String> origin, String key) {
    String text = values.get(key);
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          key + " must be a whole number, got '" + text + "' (from " + origin.get(key) + ")", e);
    }
  }

  private static String blankToNull(String text) {
    return text == null || text.isBlank() ? null : text.strip();
  }

  private static void check(boolean ok, String field, Object value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException(field + " " + rule + ", got '" + value + "'");
    }
  }

  /** One line for the start-up log: every setting, no secret. */
  @Override
  public String toString() {
    return "bind="
        + bind
        + " port="
        + port
        + " log="
        + (db == null
            ? "sqlite in " + dataDir
            // The query part of a JDBC URL may hold a password: it is not printed.
            : db.split("\\?", 2)[0] + (dbUser == null ? "" : " as " + dbUser))
        + " allow=loopback"
        + (allow.isEmpty() ? "" : "+" + allow)
        + " poll-millis="
        + pollInterval.toMillis()
        + " max-owned="
        + maxOwned
        + " max-effects-in-flight="
        + maxEffectsInFlight
        + " max-long-polls="
        + maxLongPolls
        + " max-requests="
        + maxRequests;
  }
}
