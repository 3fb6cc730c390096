package dev.pledge.client.outbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.pledge.client.sql.Dialect;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the outbox's committed rows to a {@link MessageSink}, in order per key, and marks a row
 * published only after the sink's durable acknowledgement.
 *
 * <p>One batch ({@link #runOnce}):
 *
 * <ol>
 *   <li>read up to {@code batchSize} unpublished rows in {@code seq} order. The first row of each
 *       key in that order is the key's <i>head</i>: no unpublished row of the key comes before it;
 *   <li>lock the heads with {@code FOR UPDATE SKIP LOCKED} (PostgreSQL, MariaDB). A relay owns a
 *       key while it holds its head's lock; a key whose head another relay holds is skipped, and so
 *       are its later rows, which only the head's owner publishes. That is how several relays share
 *       one table without breaking order. SQLite has no row locks: run one relay per file;
 *   <li>publish each owned key's rows one after another, each after the previous one's
 *       acknowledgement, the keys concurrently; wait at most {@code ackTimeout};
 *   <li>mark the acknowledged rows published and count a failure on each key's first failed row, in
 *       the same transaction that holds the locks, and commit.
 * </ol>
 *
 * <p>A relay killed anywhere in a batch loses nothing: its transaction rolls back, the locks go,
 * and the rows are published again by the next batch, some a second time; the consumer's inbox
 * drops those duplicates. A row that keeps failing stays at its key's head, blocking the key's
 * later rows (order first), and is tried again after {@code retryBackoff}; a {@link
 * SinkRejectedException} is reported to the listener for an operator, never skipped.
 *
 * <p>{@link #start} runs batches on a thread of its own: at once again after a full batch, else
 * after {@code idleWait}, or sooner on PostgreSQL when a publish's {@code NOTIFY} arrives. It also
 * deletes published rows older than {@code retention}, at most {@code cleanupBatch} per statement.
 */
public final class OutboxRelay implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
  private static final TypeReference<Map<String, String>> HEADERS = new TypeReference<>() {};

  /** Backlog: unpublished rows and the age of the oldest, for a lag gauge. */
  public record Backlog(long pending, Duration oldestAge) {}

  private record Row(long seq, String key, TransactionalMessage message, long createdMicros) {}

  private final DataSource dataSource;
  private final MessageSink sink;
  private final RelayConfig config;
  private final RelayListener listener;
  private final Clock clock;
  private final Dialect dialect;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition woken = lock.newCondition();
  private boolean wakeRequested;
  private volatile boolean running;
  private volatile PgWakeup listening;
  private Thread thread;
  private Instant nextCleanup;

  private OutboxRelay(
      DataSource dataSource,
      MessageSink sink,
      RelayConfig config,
      RelayListener listener,
      Clock clock) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.config = Objects.requireNonNull(config, "config");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.clock = Objects.requireNonNull(clock, "clock");
    try (Connection connection = dataSource.getConnection()) {
      this.dialect = Dialect.of(connection);
      Outbox.migrate(connection, dialect);
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare table " + Outbox.TABLE + ": " + e, e);
    }
    this.nextCleanup = clock.instant();
  }

  /** A relay that runs only when {@link #runOnce} and {@link #cleanup} are called. */
  public static OutboxRelay create(
      DataSource dataSource, MessageSink sink, RelayConfig config, RelayListener listener) {
    return new OutboxRelay(dataSource, sink, config, listener, Clock.systemUTC());
  }

  /** A relay running on a thread of its own until {@link #close}. */
  public static OutboxRelay start(
      DataSource dataSource, MessageSink sink, RelayConfig config, RelayListener listener) {
    OutboxRelay relay = create(dataSource, sink, config, listener);
    relay.running = true;
    relay.thread = Thread.ofPlatform().name("pledge-outbox-relay").daemon(true).start(relay::loop);
    return relay;
  }

  /** Wakes the relay's thread now (an in-process publisher that just committed may call it). */
  public void wake() {
    lock.lock();
    try {
      wakeRequested = true;
      woken.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    PgWakeup pg = dialect == Dialect.POSTGRESQL ? new PgWakeup(dataSource) : null;
    listening = pg;
    try (pg) {
      while (running) {
        boolean full = false;
        boolean failed = false;
        try {
          BatchResult result = batch();
          full = result.claimed() >= config.batchSize();
          failed = result.failed();
          if (!clock.instant().isBefore(nextCleanup)) {
            cleanup();
            nextCleanup = clock.instant().plus(config.cleanupEvery());
          }
        } catch (SQLException | RuntimeException e) {
          LOG.warn(
              "outbox relay batch failed, retrying after {}: {}",
              config.retryBackoff(),
              e.toString());
          failed = true;
        }
        if (!running) {
          return;
        }
        if (failed) {
          pause(config.retryBackoff(), null);
        } else if (!full) {
          pause(config.idleWait(), pg);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void pause(Duration wait, PgWakeup pg) throws InterruptedException {
    if (pg != null) {
      try {
        pg.await(wait);
        return;
      } catch (SQLException e) {
        LOG.debug("LISTEN connection failed ({}); sleeping instead", e.toString());
      }
    }
    lock.lock();
    try {
      long nanos = wait.toNanos();
      while (!wakeRequested && running && nanos > 0) {
        nanos = woken.awaitNanos(nanos);
      }
      wakeRequested = false;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs one batch and answers how many rows it marked published.
   *
   * @throws SQLException when the database failed; nothing was marked, the rows are published again
   */
  public int runOnce() throws SQLException {
    return batch().published();
  }

  /** What one batch did: rows claimed, rows published, whether a publish failed. */
  private record BatchResult(int claimed, int published, boolean failed) {}

  private BatchResult batch() throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      try {
        if (dialect == Dialect.SQLITE) {
          // No row locks: read outside a transaction (a read transaction that later writes fails
          // in WAL mode if a publisher committed meanwhile), write the marks in a short one.
          connection.setAutoCommit(true);
          List<Row> rows = read(connection);
          Map<String, List<Row>> owned = byKey(rows);
          Outcome outcome = publish(owned);
          connection.setAutoCommit(false);
          mark(connection, outcome);
          connection.commit();
          return report(rows.size(), outcome);
        }
        connection.setAutoCommit(false);
        if (dialect == Dialect.MARIADB) {
          connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        }
        List<Row> rows = read(connection);
        Map<String, List<Row>> byKey = byKey(rows);
        Set<Long> heads = lockHeads(connection, byKey);
        byKey.values().removeIf(keyRows -> !heads.contains(keyRows.getFirst().seq()));
        Outcome outcome = publish(byKey);
        mark(connection, outcome);
        connection.commit();
        return report(byKey.values().stream().mapToInt(List::size).sum(), outcome);
      } catch (SQLException | RuntimeException e) {
        try {
          connection.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      } finally {
        connection.setAutoCommit(autoCommit);
      }
    }
  }

  private BatchResult report(int claimed, Outcome outcome) {
    listener.batch(claimed, outcome.acked().size());
    return new BatchResult(claimed, outcome.acked().size(), !outcome.failed().isEmpty());
  }

  private List<Row> read(Connection connection) throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT seq, ordering_key, id, topic, msg_key, payload, headers, created_micros FROM "
                + Outbox.TABLE
                + " WHERE published_micros IS NULL ORDER BY seq LIMIT ?")) {
      statement.setInt(1, config.batchSize());
      try (ResultSet r = statement.executeQuery()) {
        while (r.next()) {
          Map<String, String> headers;
          try {
            headers = Outbox.JSON.readValue(r.getString(7), HEADERS);
          } catch (JsonProcessingException e) {
            throw new IllegalStateException("row " + r.getLong(1) + ": headers are not JSON", e);
          }
          TransactionalMessage message =
              new TransactionalMessage(
                  r.getString(3), r.getString(4), r.getString(5), r.getString(6), headers, null);
          rows.add(new Row(r.getLong(1), r.getString(2), message, r.getLong(8)));
        }
      }
    }
    return rows;
  }

  private static Map<String, List<Row>> byKey(List<Row> rows) {
    Map<String, List<Row>> out = new LinkedHashMap<>();
    for (Row row : rows) {
      out.computeIfAbsent(row.key(), k -> new ArrayList<>()).add(row);
    }
    return out;
  }

  private Set<Long> lockHeads(Connection connection, Map<String, List<Row>> byKey)
      throws SQLException {
    if (byKey.isEmpty()) {
      return Set.of();
    }
    List<Long> heads = byKey.values().stream().map(rows -> rows.getFirst().seq()).toList();
    String sql =
        "SELECT seq FROM "
            + Outbox.TABLE
            + " WHERE seq IN ("
            + heads.stream().map(s -> "?").collect(Collectors.joining(","))
            + ") AND published_micros IS NULL FOR UPDATE SKIP LOCKED";
    Set<Long> locked = new HashSet<>();
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < heads.size(); i++) {
        statement.setLong(i + 1, heads.get(i));
      }
      try (ResultSet r = statement.executeQuery()) {
        while (r.next()) {
          locked.add(r.getLong(1));
        }
      }
    }
    return locked;
  }

  private record Failure(Row row, Throwable cause) {}

  private record Outcome(List<Row> acked, List<Failure> failed) {}

  private Outcome publish(Map<String, List<Row>> byKey) {
    List<Row> acked = Collections.synchronizedList(new ArrayList<>());
    Map<Long, Failure> failed = new ConcurrentHashMap<>();
    List<CompletableFuture<Void>> chains = new ArrayList<>();
    for (List<Row> rows : byKey.values()) {
      CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
      for (Row row : rows) {
        chain =
            chain.thenCompose(ignored ->
                sink.publish(row.message())
                    .handle((ok, error) -> {
                      if (error != null) {
                        Throwable cause =
                            error instanceof CompletionException c && c.getCause() != null
                                ? c.getCause()
                                : error;
                        failed.put(row.seq(), new Failure(row, cause));
                        throw new CompletionException(cause);
                      }
                      acked.add(row);
                      listener.published(row.message(), writeToAck(row));
                      return null;
                    }));
      }
      chains.add(chain);
    }
    try {
      CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new))
          .get(config.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // a key's chain stopped at its first failure, recorded in failed; the others went on
      waitForTheRest(chains);
    } catch (TimeoutException e) {
      LOG.warn(
          "outbox relay: acknowledgements still missing after {}; those rows are published again",
          config.ackTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Row> ackedNow;
    synchronized (acked) {
      ackedNow = List.copyOf(acked);
    }
    List<Failure> failures = List.copyOf(failed.values());
    for (Failure failure : failures) {
      boolean rejected = failure.cause() instanceof SinkRejectedException;
      LOG.warn(
          "outbox relay: message {} not published ({}{})",
          failure.row().message().id(),
          rejected ? "rejected: " : "",
          failure.cause().toString());
      listener.publishFailed(failure.row().message(), failure.cause(), rejected);
    }
    return new Outcome(ackedNow, failures);
  }

  private void waitForTheRest(List<CompletableFuture<Void>> chains) {
    for (CompletableFuture<Void> chain : chains) {
      try {
        chain.get(config.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // recorded per row, or still unknown: published again later
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private Duration writeToAck(Row row) {
    long now = ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant());
    return Duration.of(Math.max(0, now - row.createdMicros()), ChronoUnit.MICROS);
  }

  private void mark(Connection connection, Outcome outcome) throws SQLException {
    long now = ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant());
    List<Row> acked = outcome.acked();
    for (int from = 0; from < acked.size(); from += 500) {
      List<Row> chunk = acked.subList(from, Math.min(acked.size(), from + 500));
      String sql =
          "UPDATE "
              + Outbox.TABLE
              + " SET published_micros = ? WHERE seq IN ("
              + chunk.stream().map(r -> "?").collect(Collectors.joining(","))
              + ")";
      try (PreparedStatement statement = connection.prepareStatement(sql)) {
        statement.setLong(1, now);
        for (int i = 0; i < chunk.size(); i++) {
          statement.setLong(i + 2, chunk.get(i).seq());
        }
        statement.executeUpdate();
      }
    }
    if (!outcome.failed().isEmpty()) {
      try (PreparedStatement statement =
          connection.prepareStatement(
              "UPDATE "
                  + Outbox.TABLE
                  + " SET attempts = attempts + 1, last_error = ? WHERE seq = ?")) {
        for (Failure failure : outcome.failed()) {
          String error = failure.cause().toString();
          statement.setString(1, error.length() <= 512 ? error : error.substring(0, 512));
          statement.setLong(2, failure.row().seq());
          statement.addBatch();
        }
        statement.executeBatch();
      }
    }
  }

  /**
   * Deletes published rows older than the retention, at most {@code cleanupBatch}, and answers how
   * many.
   */
  public int cleanup() throws SQLException {
    long cutoff =
        ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant().minus(config.retention()));
    String sql =
        switch (dialect) {
          case MARIADB ->
              "DELETE FROM "
                  + Outbox.TABLE
                  + " WHERE published_micros IS NOT NULL AND published_micros <= ? ORDER BY seq"
                  + " LIMIT "
                  + config.cleanupBatch();
          case POSTGRESQL, SQLITE ->
              "DELETE FROM "
                  + Outbox.TABLE
                  + " WHERE seq IN (SELECT seq FROM "
                  + Outbox.TABLE
                  + " WHERE published_micros IS NOT NULL AND published_micros <= ? LIMIT "
                  + config.cleanupBatch()
                  + ")";
        };
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      if (!connection.getAutoCommit()) {
        connection.setAutoCommit(true);
      }
      statement.setLong(1, cutoff);
      int deleted = statement.executeUpdate();
      if (deleted > 0) {
        listener.cleanedUp(deleted);
      }
      return deleted;
    }
  }

  /** The backlog now: unpublished rows and the age of the oldest (a gauge of lag). */
  public Backlog backlog() throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT COUNT(*), MIN(created_micros) FROM "
                    + Outbox.TABLE
                    + " WHERE published_micros IS NULL");
        ResultSet r = statement.executeQuery()) {
      r.next();
      long count = r.getLong(1);
      long oldest = r.getLong(2);
      if (count == 0) {
        return new Backlog(0, Duration.ZERO);
      }
      long now = ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant());
      return new Backlog(count, Duration.of(Math.max(0, now - oldest), ChronoUnit.MICROS));
    }
  }

  /** Stops the thread (if started), waiting for its batch to end; does not close the sink. */
  @Override
  public void close() {
    running = false;
    wake();
    PgWakeup pg = listening;
    if (pg != null) {
      pg.close(); // a thread blocked reading notifications wakes when its connection closes
    }
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
