package dev.pledge.eventstore;

import java.time.Duration;
import java.util.Objects;

/**
 * How an {@link EventStore} reaches its database and the bounds it enforces. Built with {@link
 * #forUrl} and the {@code with…} methods; every value is checked when the record is made, with a
 * message naming the field and the value.
 *
 * @param jdbcUrl {@code jdbc:postgresql:…}, {@code jdbc:mariadb:…} (or {@code jdbc:mysql:…}) or
 *     {@code jdbc:sqlite:<file>}
 * @param poolSize connections of the store's pool (the group-commit writer takes one)
 * @param maxEventBytes the largest event: payload plus metadata, in UTF-8 bytes (default 1 MiB)
 * @param maxEventsPerAppend the most events one append may carry (default 1,000)
 * @param maxReadPageSize the most events one read may return (default 5,000)
 * @param maxAppendsPerCommit how many appends the group-commit writer puts in one transaction
 * @param maxPendingAppends appends queued for the writer beyond which {@code append} is refused
 * @param appendTimeout how long {@code append} waits for its commit before giving up (its outcome
 *     is then unknown: it may still commit)
 * @param pollInterval how often a subscription looks for new events when no notification comes (on
 *     PostgreSQL a notification wakes it at once; this is the fallback)
 * @param writerConnections batches the group-commit writer may have in flight at once (default 1).
 *     Above 1, only on PostgreSQL without a publisher: batches commit in parallel (PostgreSQL takes
 *     no position lock; readers see positions in order, see docs/eventstore.md); a batch sharing a
 *     stream with one in flight waits for it, so each stream's appends keep their order.
 */
public record EventStoreConfig(
    String jdbcUrl,
    String user,
    String password,
    int poolSize,
    int maxEventBytes,
    int maxEventsPerAppend,
    int maxReadPageSize,
    int maxAppendsPerCommit,
    int maxPendingAppends,
    Duration appendTimeout,
    Duration pollInterval,
    int writerConnections) {
  public static final int MAX_STREAM_ID_LENGTH = 200;

  public EventStoreConfig {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Dialect.of(jdbcUrl);
    user = user == null ? "" : user;
    password = password == null ? "" : password;
    range("poolSize", poolSize, 2, 256);
    range("maxEventBytes", maxEventBytes, 64, 64 * 1024 * 1024);
    range("maxEventsPerAppend", maxEventsPerAppend, 1, 100_000);
    range("maxReadPageSize", maxReadPageSize, 1, 100_000);
    range("maxAppendsPerCommit", maxAppendsPerCommit, 1, 10_000);
    range("maxPendingAppends", maxPendingAppends, 1, 1_000_000);
    positive("appendTimeout", appendTimeout);
    positive("pollInterval", pollInterval);
    range("writerConnections", writerConnections, 1, 16);
    if (writerConnections >= poolSize) {
      throw new IllegalArgumentException(
          "writerConnections must be less than poolSize "
              + poolSize
              + " (readers need a connection too), got "
              + writerConnections);
    }
  }

  /** The defaults for a database. */
  public static EventStoreConfig forUrl(String jdbcUrl) {
    return new EventStoreConfig(
        jdbcUrl,
        "",
        "",
        8,
        1024 * 1024,
        1_000,
        5_000,
        256,
        10_000,
        Duration.ofSeconds(30),
        Duration.ofMillis(200),
        1);
  }

  public EventStoreConfig withCredentials(String user, String password) {
    return new EventStoreConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        maxEventBytes,
        maxEventsPerAppend,
        maxReadPageSize,
        maxAppendsPerCommit,
        maxPendingAppends,
        appendTimeout,
        pollInterval,
        writerConnections);
  }

  public EventStoreConfig withPoolSize(int poolSize) {
    return new EventStoreConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        maxEventBytes,
        maxEventsPerAppend,
        maxReadPageSize,
        maxAppendsPerCommit,
        maxPendingAppends,
        appendTimeout,
        pollInterval,
        writerConnections);
  }

  public EventStoreConfig withLimits(
      int maxEventBytes, int maxEventsPerAppend, int maxReadPageSize) {
    return new EventStoreConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        maxEventBytes,
        maxEventsPerAppend,
        maxReadPageSize,
        maxAppendsPerCommit,
        maxPendingAppends,
        appendTimeout,
        pollInterval,
        writerConnections);
  }

  public EventStoreConfig withPollInterval(Duration pollInterval) {
    return new EventStoreConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        maxEventBytes,
        maxEventsPerAppend,
        maxReadPageSize,
        maxAppendsPerCommit,
        maxPendingAppends,
        appendTimeout,
        pollInterval,
        writerConnections);
  }

  /** {@code writerConnections}: see the record's description. */
  public EventStoreConfig withWriterConnections(int writerConnections) {
    return new EventStoreConfig(
        jdbcUrl,
        user,
        password,
        poolSize,
        maxEventBytes,
        maxEventsPerAppend,
        maxReadPageSize,
        maxAppendsPerCommit,
        maxPendingAppends,
        appendTimeout,
        pollInterval,
        writerConnections);
  }

  /** The URL with any password masked, fit for logs and messages. */
  public String redactedUrl() {
    return Dialect.redact(jdbcUrl);
  }

  @Override
  public String toString() {
    return "EventStoreConfig[jdbcUrl="
        + redactedUrl()
        + ", user="
        + user
        + ", poolSize="
        + poolSize
        + ", maxEventBytes="
        + maxEventBytes
        + ", maxEventsPerAppend="
        + maxEventsPerAppend
        + ", maxReadPageSize="
        + maxReadPageSize
        + ", maxAppendsPerCommit="
        + maxAppendsPerCommit
        + ", maxPendingAppends="
        + maxPendingAppends
        + ", appendTimeout="
        + appendTimeout
        + ", pollInterval="
        + pollInterval
        + ", writerConnections="
        + writerConnections
        + "]";
  }

  private static void range(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field + " must be in [" + min + ", " + max + "], got " + value);
    }
  }

  private static void positive(String field, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(field + " must be a positive duration, got " + value);
    }
  }
}
