package dev.pledge.store.jdbc;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to open a {@link JdbcTransactionLog}: where the database is, how many connections to read
 * with, and the bounds of group commit. Checked when built; a bad value is rejected with a message
 * naming the field and the value, never replaced silently.
 *
 * <p>The database is chosen by the URL: {@code jdbc:sqlite:<file>} (the embedded default; the
 * file's folder is created if missing), {@code jdbc:postgresql:…}, {@code jdbc:mariadb:…} or {@code
 * jdbc:mysql:…} (both served by the MariaDB driver).
 *
 * @param jdbcUrl where the log lives
 * @param user the database user, or null (SQLite, or a user named in the URL)
 * @param password the user's password, or null; never printed by {@link #toString()}
 * @param poolSize connections for reads, in [1, 64]; writes have one connection of their own
 * @param groupCommitMaxBatch the most writes one database transaction carries, in [1, 10_000]
 * @param groupCommitMaxWait how long the writer lingers for more writes once a batch has begun,
 *     when writes are arriving concurrently, in [0, 1 s]; zero commits what is queued at once
 * @param queueCapacity the most writes waiting for the writer, in [1, 1_000_000]; a write that
 *     finds the queue full fails at once with {@code LogUnavailableException}
 * @param tablePrefix prepended to every table and index name: a lower-case letter, then up to 31
 *     lower-case letters, digits or underscores
 */
public record JdbcLogConfig(
    String jdbcUrl,
    String user,
    String password,
    int poolSize,
    int groupCommitMaxBatch,
    Duration groupCommitMaxWait,
    int queueCapacity,
    String tablePrefix) {

  public static final int DEFAULT_POOL_SIZE = 8;
  public static final int DEFAULT_MAX_BATCH = 256;
  public static final Duration DEFAULT_MAX_WAIT = Duration.ofMillis(2);
  public static final int DEFAULT_QUEUE_CAPACITY = 10_000;
  public static final String DEFAULT_TABLE_PREFIX = "pledge_";

  static final int MAX_POOL_SIZE = 64;
  static final int MAX_BATCH = 10_000;
  static final Duration MAX_WAIT = Duration.ofSeconds(1);
  static final int MAX_QUEUE_CAPACITY = 1_000_000;

  /** Short enough that every table and index name stays under PostgreSQL's 63 characters. */
  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9_]{0,31}");

  public JdbcLogConfig {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Dialect.of(jdbcUrl);
    range("poolSize", poolSize, 1, MAX_POOL_SIZE);
    range("groupCommitMaxBatch", groupCommitMaxBatch, 1, MAX_BATCH);
    range("queueCapacity", queueCapacity, 1, MAX_QUEUE_CAPACITY);
    if (groupCommitMaxWait == null
        || groupCommitMaxWait.isNegative()
        || groupCommitMaxWait.compareTo(MAX_WAIT) > 0) {
      throw new IllegalArgumentException(
          "groupCommitMaxWait must be in [0, " + MAX_WAIT + "], got " + groupCommitMaxWait);
    }
    if (tablePrefix == null || !PREFIX.matcher(tablePrefix).matches()) {
      throw new IllegalArgumentException(
          "tablePrefix must match " + PREFIX.pattern() + ", got '" + tablePrefix + "'");
    }
  }

  /** The defaults for {@code jdbcUrl}: no user, 8 readers, batches of 256 within 2 ms, 10,000. */
  public static JdbcLogConfig forUrl(String jdbcUrl) {
    return new JdbcLogConfig(
        jdbcUrl,
        null,
        null,
        DEFAULT_POOL_SIZE,
        DEFAULT_MAX_BATCH,
        DEFAULT_MAX_WAIT,
        DEFAULT_QUEUE_CAPACITY,
        DEFAULT_TABLE_PREFIX);
  }

  public JdbcLogConfig withCredentials(String user, String password) {
    return new JdbcLogConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        groupCommitMaxBatch,
        groupCommitMaxWait,
        queueCapacity,
        tablePrefix);
  }

  public JdbcLogConfig withPoolSize(int poolSize) {
    return new JdbcLogConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        groupCommitMaxBatch,
        groupCommitMaxWait,
        queueCapacity,
        tablePrefix);
  }

  public JdbcLogConfig withGroupCommit(int maxBatch, Duration maxWait) {
    return new JdbcLogConfig(
        jdbcUrl, user, password, poolSize, maxBatch, maxWait, queueCapacity, tablePrefix);
  }

  public JdbcLogConfig withQueueCapacity(int queueCapacity) {
    return new JdbcLogConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        groupCommitMaxBatch,
        groupCommitMaxWait,
        queueCapacity,
        tablePrefix);
  }

  public JdbcLogConfig withTablePrefix(String tablePrefix) {
    return new JdbcLogConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        groupCommitMaxBatch,
        groupCommitMaxWait,
        queueCapacity,
        tablePrefix);
  }

  /** The database the URL names. */
  Dialect dialect() {
    return Dialect.of(jdbcUrl);
  }

  /** Everything but secrets: the password is masked, and so is one written into the URL. */
  @Override
  public String toString() {
    return "JdbcLogConfig[jdbcUrl="
        + Dialect.redact(jdbcUrl)
        + ", user="
        + user
        + ", password="
        + (password == null ? null : "***")
        + ", poolSize="
        + poolSize
        + ", groupCommitMaxBatch="
        + groupCommitMaxBatch
        + ", groupCommitMaxWait="
        + groupCommitMaxWait
        + ", queueCapacity="
        + queueCapacity
        + ", tablePrefix="
        + tablePrefix
        + "]";
  }

  private static void range(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field + " must be in [" + min + ", " + max + "], got " + value);
    }
  }
}
