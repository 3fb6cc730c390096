package dev.pledge.eventstore;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Projection}: reads the events after its checkpoint in batches and applies each
 * batch and the new checkpoint in one local transaction.
 *
 * <p><b>One applier.</b> Every batch starts by locking the projection's row of {@code
 * es_checkpoints} ({@code SELECT … FOR UPDATE}; SQLite's file lock) and reads the checkpoint under
 * that lock, so two runners of one projection (two instances of a service) can never both apply an
 * event: the second waits for the first's commit and then sees the moved checkpoint. A lease in the
 * same row ({@code owner}, {@code lease_until}) keeps the other instances from even trying while
 * the owner is alive; when the owner dies its lease runs out and another takes over at the
 * committed checkpoint. The lease is for efficiency; the lock and the checkpoint are what make it
 * safe.
 *
 * <p><b>Rebuilding</b> ({@link #rebuild}) resets the read model and moves the checkpoint back under
 * the same lock, while the service runs; the runner then replays.
 */
public final class ProjectionRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProjectionRunner.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  /**
   * @param owner this instance's name in the lease (unique per process)
   * @param batchSize events per transaction
   * @param lease how long the lease lasts without renewal
   * @param initialPosition the checkpoint the projection starts from when it has none yet
   */
  public record Options(String owner, int batchSize, Duration lease, long initialPosition) {
    public Options {
      if (owner == null || owner.isEmpty() || owner.length() > 200) {
        throw new IllegalArgumentException(
            "owner must be 1 to 200 characters, got '" + owner + "'");
      }
      if (batchSize < 1 || batchSize > 10_000) {
        throw new IllegalArgumentException("batchSize must be in [1, 10000], got " + batchSize);
      }
      if (lease == null || lease.compareTo(Duration.ofMillis(100)) < 0) {
        throw new IllegalArgumentException("lease must be at least 100 ms, got " + lease);
      }
      if (initialPosition < 0) {
        throw new IllegalArgumentException("initialPosition must be >= 0, got " + initialPosition);
      }
    }

    public static Options defaults() {
      return new Options("runner-" + UUID.randomUUID(), 500, Duration.ofSeconds(10), 0);
    }

    public Options withOwner(String owner) {
      return new Options(owner, batchSize, lease, initialPosition);
    }

    public Options withBatchSize(int batchSize) {
      return new Options(owner, batchSize, lease, initialPosition);
    }

    public Options withLease(Duration lease) {
      return new Options(owner, batchSize, lease, initialPosition);
    }

    public Options withInitialPosition(long initialPosition) {
      return new Options(owner, batchSize, lease, initialPosition);
    }
  }

  private final EventStore store;
  private final Projection projection;
  private final Options options;
  private final Thread thread;
  private volatile boolean closed;
  private volatile long checkpoint = -1;
  private volatile boolean owning;
  private volatile String lastError = "";
  private long leaseUntilMillis;

  private ProjectionRunner(EventStore store, Projection projection, Options options) {
    this.store = store;
    this.projection = projection;
    this.options = options;
    this.thread =
        Thread.ofPlatform()
            .name("pledge-es-projection-" + projection.name())
            .daemon()
            .unstarted(this::run);
  }

  /** Creates the projection's tables and checkpoint if missing, and starts its thread. */
  public static ProjectionRunner start(EventStore store, Projection projection, Options options) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(projection, "projection");
    Objects.requireNonNull(options, "options");
    String name = projection.name();
    if (name == null || name.isEmpty() || name.length() > 200) {
      throw new IllegalArgumentException(
          "projection name must be 1 to 200 characters, got '" + name + "'");
    }
    ProjectionRunner runner = new ProjectionRunner(store, projection, options);
    runner.prepare();
    runner.thread.start();
    return runner;
  }

  private void prepare() {
    try (Connection c = store.dataSource().getConnection()) {
      projection.createTables(c);
      try (PreparedStatement s =
          c.prepareStatement(
              store
                  .dialect()
                  .insertIgnore(
                      "es_checkpoints",
                      "name, global_position, owner, lease_until",
                      "?, ?, '', 0"))) {
        s.setString(1, projection.name());
        s.setLong(2, options.initialPosition());
        s.executeUpdate();
      }
    } catch (SQLException e) {
      throw new EventStoreException(
          "cannot prepare projection '" + projection.name() + "': " + e, e);
    }
  }

  /** The checkpoint this runner last committed or saw (-1 before its first batch). */
  public long checkpoint() {
    return checkpoint;
  }

  /** Whether this runner held the lease at its last batch. */
  public boolean owning() {
    return owning;
  }

  /** The last failure of a batch, empty when the last batch succeeded. */
  public String lastError() {
    return lastError;
  }

  /** The committed checkpoint of {@code projection}, read from the database. */
  public static long committedCheckpoint(EventStore store, String projection) {
    try (Connection c = store.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT global_position FROM es_checkpoints WHERE name = ?")) {
      s.setString(1, projection);
      try (ResultSet rows = s.executeQuery()) {
        return rows.next() ? rows.getLong(1) : -1;
      }
    } catch (SQLException e) {
      throw new EventStoreException("cannot read the checkpoint of '" + projection + "': " + e, e);
    }
  }

  /**
   * Rebuilds the read model from {@code fromPosition} (0: from the first event) while the runners
   * keep running: under the checkpoint's lock, {@link Projection#reset} and the checkpoint moved to
   * {@code fromPosition}, in one transaction. Whichever runner holds the lease then replays.
   */
  public void rebuild(long fromPosition) {
    if (fromPosition < 0) {
      throw new IllegalArgumentException("fromPosition must be >= 0, got " + fromPosition);
    }
    inTransaction(c -> {
      lockCheckpoint(c);
      projection.reset(c, fromPosition);
      try (PreparedStatement s =
          c.prepareStatement("UPDATE es_checkpoints SET global_position = ? WHERE name = ?")) {
        s.setLong(1, fromPosition);
        s.setString(2, projection.name());
        s.executeUpdate();
      }
      return null;
    });
    store.feed().committed(fromPosition);
    log.info("projection {}: rebuild from position {}", projection.name(), fromPosition);
  }

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T inTransaction(Work<T> work) {
    try (Connection c = store.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        AppendWriter.rollback(c, e);
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new EventStoreException("projection '" + projection.name() + "': " + e, e);
    }
  }

  private record Checkpoint(long position, String owner, long leaseUntil) {}

  private Checkpoint lockCheckpoint(Connection c) throws SQLException {
    if (store.dialect() == Dialect.SQLITE) {
      try (PreparedStatement s =
          c.prepareStatement("UPDATE es_checkpoints SET name = name WHERE name = ?")) {
        s.setString(1, projection.name());
        s.executeUpdate();
      }
    }
    try (PreparedStatement s = c.prepareStatement(store.dialect().lockCheckpointSql())) {
      s.setString(1, projection.name());
      try (ResultSet rows = s.executeQuery()) {
        if (!rows.next()) {
          throw new EventStoreException(
              "projection '" + projection.name() + "' has no checkpoint row (deleted?)");
        }
        return new Checkpoint(rows.getLong(1), rows.getString(2), rows.getLong(3));
      }
    }
  }

  /** The outcome of one batch: events applied, or -1 when another runner holds the lease. */
  private int batch() {
    long now = store.clock().millis();
    if (owning && now < leaseUntilMillis - options.lease().toMillis() / 2 && caughtUp()) {
      // Nothing to apply and the lease is fresh: no transaction, no lock, no write.
      return 0;
    }
    return inTransaction(c -> {
      Checkpoint current = lockCheckpoint(c);
      long at = store.clock().millis();
      if (!current.owner().equals(options.owner()) && current.leaseUntil() > at) {
        owning = false;
        checkpoint = current.position();
        return -1;
      }
      List<RecordedEvent> events = store.readAll(c, current.position(), options.batchSize());
      for (RecordedEvent event : events) {
        projection.apply(c, event);
      }
      long next = events.isEmpty() ? current.position() : events.getLast().position();
      long until = at + options.lease().toMillis();
      try (PreparedStatement s =
          c.prepareStatement(
              "UPDATE es_checkpoints SET global_position = ?, owner = ?, lease_until = ?"
                  + " WHERE name = ?")) {
        s.setLong(1, next);
        s.setString(2, options.owner());
        s.setLong(3, until);
        s.setString(4, projection.name());
        s.executeUpdate();
      }
      if (!owning) {
        log.info(
            "projection {}: {} takes the lease at position {}",
            projection.name(),
            options.owner(),
            current.position());
      }
      owning = true;
      leaseUntilMillis = until;
      checkpoint = next;
      return events.size();
    });
  }

  /** Whether the committed checkpoint is at the head (read without locking anything). */
  private boolean caughtUp() {
    try (Connection c = store.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT global_position FROM es_checkpoints WHERE name = ?")) {
      s.setString(1, projection.name());
      try (ResultSet rows = s.executeQuery()) {
        return rows.next() && rows.getLong(1) >= store.headPosition();
      }
    } catch (SQLException e) {
      throw new EventStoreException("projection '" + projection.name() + "': " + e, e);
    }
  }

  private void run() {
    Duration backoff = Duration.ofMillis(50);
    while (!closed) {
      try {
        long seen = store.feed().generation();
        int applied = batch();
        lastError = "";
        backoff = Duration.ofMillis(50);
        if (applied < 0) {
          // Another instance holds the lease: look again in a while.
          TimeUnit.MILLISECONDS.sleep(Math.max(100, options.lease().toMillis() / 4));
        } else if (applied < options.batchSize()) {
          store.feed().await(seen, store.config().pollInterval());
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (closed) {
          return;
        }
        lastError = String.valueOf(e.getMessage());
        log.warn(
            "projection {}: batch after position {} failed ({}); again in {}",
            projection.name(),
            checkpoint,
            e.getMessage(),
            backoff);
        try {
          TimeUnit.MILLISECONDS.sleep(backoff.toMillis());
        } catch (InterruptedException interrupted) {
          return;
        }
        backoff =
            backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                ? MAX_BACKOFF
                : backoff.multipliedBy(2);
      }
    }
  }

  /** Stops the runner; its lease runs out by itself (or is taken over at once by a new owner). */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
