package dev.pledge.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.spi.AuditLog;
import dev.pledge.core.spi.DuplicateGidException;
import dev.pledge.core.spi.KeyQueues;
import dev.pledge.core.spi.LeaseHeldException;
import dev.pledge.core.spi.LogUnavailableException;
import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.core.spi.VersionConflictException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction log on a relational database: SQLite (the embedded default), PostgreSQL or
 * MariaDB.
 *
 * <h2>Group commit</h2>
 *
 * <p>Every write (create, update, history, lease claim) goes into one bounded queue and is carried
 * out by one writer thread on one connection. The writer takes everything queued, up to {@link
 * JdbcLogConfig#groupCommitMaxBatch()} writes, runs them in order in one database transaction and
 * commits once; each caller waits until the commit that holds its write returns. Under load, the
 * writes that arrive while one commit is syncing to disk form the next batch, so the cost of the
 * sync is shared by everyone in it. When writes are arriving concurrently (the last batch held more
 * than one), the writer lingers up to {@link JdbcLogConfig#groupCommitMaxWait()} for more before it
 * begins. A write that finds the queue full fails at once: the queue is a bound, not a buffer.
 *
 * <p>A write that fails for its own reasons (a duplicate gid, a stale version, a lease held by a
 * newer handle) is reported to its caller alone; it does not fail the batch, since each statement
 * reports such outcomes through its row count, never through an error. A statement that raises an
 * error (the database refusing the data) rolls the batch back, and the writer runs each of its
 * writes again in a transaction of its own, so that only the guilty one fails. A failed commit
 * fails every write of the batch with {@link LogUnavailableException}: it may or may not have
 * happened, as the SPI says.
 *
 * <h2>Reads</h2>
 *
 * <p>Reads use a pool of their own ({@link JdbcLogConfig#poolSize()} connections) and never wait
 * behind the writer. They return only committed data; the caller of a write sees its write once the
 * call returns.
 *
 * <h2>Leases</h2>
 *
 * <p>Opening a log inserts a row into {@code epochs}; its generated key is this handle's epoch,
 * greater than every earlier one. {@link #claimDue} stamps due rows with the epoch and an expiry
 * computed by the database's clock; an update through an older handle while a newer one's lease
 * lives is refused in the same statement that would write it.
 */
public final class JdbcTransactionLog
    implements TransactionLog, SubscriptionStore, AuditLog, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcTransactionLog.class);

  /** How long a caller waits for its write's commit before giving up on it. */
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(60);

  private static final String COLUMNS =
      "gid, mode, status, version, created_at_millis, updated_at_millis, wake_at_millis, settled,"
          + " state, dead, dead_subscriptions";

  private final JdbcLogConfig config;
  private final Dialect dialect;
  private final HikariDataSource writerPool;
  private final HikariDataSource readerPool;
  private final TransactionCodec codec = new TransactionCodec();
  private final ArrayBlockingQueue<Write> queue;
  private final Thread writer;
  private final long epoch;
  private final Sql sql;
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final WriterListener writerListener;

  private volatile boolean open = true;

  /**
   * Counters of the writer since the log was opened: commits that wrote transaction rows, the rows
   * written (creates and updates), batches run (claims included), and writes waiting.
   */
  public record Stats(long commits, long records, long batches, int queued) {}

  private JdbcTransactionLog(
      JdbcLogConfig config, InstantSource clock, WriterListener writerListener) {
    this.config = config;
    this.writerListener = Objects.requireNonNull(writerListener, "writerListener");
    this.dialect = config.dialect();
    this.sql = new Sql(dialect, config.tablePrefix());
    this.queue = new ArrayBlockingQueue<>(config.queueCapacity());
    if (dialect == Dialect.SQLITE) {
      createFolder(Dialect.sqliteFile(config.jdbcUrl()));
    }
    this.writerPool = pool(config, true);
    HikariDataSource readers = null;
    try {
      readers = pool(config, false);
      try (Connection connection = writerPool.getConnection()) {
        Schema.migrate(connection, dialect, config.tablePrefix(), clock.instant());
        this.epoch = openEpoch(connection, clock.instant());
      }
    } catch (SQLException | RuntimeException e) {
      writerPool.close();
      if (readers != null) {
        readers.close();
      }
      throw new LogUnavailableException("cannot open the log at " + config + ": " + e, e);
    }
    this.readerPool = readers;
    this.writer = Thread.ofPlatform().daemon().name("pledge-log-writer").unstarted(this::writeLoop);
    writer.start();
    LOG.info("log open: {}, epoch {}", config, epoch);
  }

  /** Opens (and creates or migrates, when needed) the log {@code config} describes. */
  public static JdbcTransactionLog open(JdbcLogConfig config) {
    return open(config, WriterListener.NONE);
  }

  /** Opens the log {@code config} describes; its writer reports each commit to {@code listener}. */
  public static JdbcTransactionLog open(JdbcLogConfig config, WriterListener listener) {
    return new JdbcTransactionLog(config, InstantSource.system(), listener);
  }

  private static void createFolder(Path file) {
    Path folder = file.getParent();
    if (folder != null) {
      try {
        Files.createDirectories(folder);
      } catch (java.io.IOException e) {
        throw new LogUnavailableException("cannot create the log's folder " + folder, e);
      }
    }
  }

  private static HikariDataSource pool(JdbcLogConfig config, boolean writer) {
    HikariConfig pool = new HikariConfig();
    config.dialect().configure(pool, config.jdbcUrl(), writer);
    if (config.user() != null) {
      pool.setUsername(config.user());
    }
    if (config.password() != null) {
      pool.setPassword(config.password());
    }
    pool.setPoolName(writer ? "pledge-log-writer" : "pledge-log-readers");
    pool.setMaximumPoolSize(writer ? 1 : config.poolSize());
    pool.setMinimumIdle(writer ? 1 : Math.min(2, config.poolSize()));
    pool.setConnectionTimeout(Dialect.LOCK_TIMEOUT.toMillis());
    return new HikariDataSource(pool);
  }

  private long openEpoch(Connection connection, Instant now) throws SQLException {
    dialect.begin(connection);
    try (PreparedStatement insert =
        connection.prepareStatement(sql.insertEpoch, new String[] {"epoch"})) {
      insert.setLong(1, now.toEpochMilli());
      insert.executeUpdate();
      long opened;
      try (ResultSet keys = insert.getGeneratedKeys()) {
        if (!keys.next()) {
          throw new SQLException("the database returned no epoch");
        }
        opened = keys.getLong(1);
      }
      dialect.commit(connection);
      return opened;
    } catch (SQLException | RuntimeException e) {
      dialect.rollback(connection);
      throw e;
    }
  }

  @Override
  public long epoch() {
    return epoch;
  }

  public Stats stats() {
    return new Stats(commits.get(), records.get(), batches.get(), queue.size());
  }

  // --- writes: queued, then carried out by the writer thread ---

  @Override
  public void create(Transaction first, List<HistoryEntry> history) {
    if (first.version() != 1) {
      throw new IllegalArgumentException(
          "a new transaction starts at version 1, got " + first.version());
    }
    submit(new Write.Create(first, List.copyOf(history), new CompletableFuture<>()));
  }

  @Override
  public void update(Transaction next, List<HistoryEntry> history) {
    submit(new Write.Update(next, List.copyOf(history), new CompletableFuture<>()));
  }

  @Override
  public List<Transaction> claimDue(Instant now, Duration lease, int limit) {
    if (lease.isNegative() || lease.isZero()) {
      throw new IllegalArgumentException("lease must be positive, got " + lease);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
    return submit(new Write.Claim(now, lease, limit, new CompletableFuture<>()));
  }

  private <T> T submit(Write write) {
    if (!open) {
      throw new LogUnavailableException("the log is closed");
    }
    if (!queue.offer(write)) {
      throw new LogUnavailableException(
          "the log's write queue is full (" + config.queueCapacity() + " writes waiting)");
    }
    @SuppressWarnings("unchecked")
    CompletableFuture<T> done = (CompletableFuture<T>) write.done();
    try {
      return done.get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException failure) {
        // The writer's exception is rethrown as the caller's own, with this thread's stack.
        failure.addSuppressed(new Exception("waited here"));
        throw failure;
      }
      throw new LogUnavailableException("the log write failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new LogUnavailableException(
          "the log write did not commit within " + WRITE_TIMEOUT + "; it may yet", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LogUnavailableException("interrupted waiting for the log write", e);
    }
  }

  /** One queued write and the future its caller waits on. */
  private sealed interface Write {
    CompletableFuture<?> done();

    record Create(Transaction tx, List<HistoryEntry> history, CompletableFuture<Void> done)
        implements Write {}

    record Update(Transaction tx, List<HistoryEntry> history, CompletableFuture<Void> done)
        implements Write {}

    record Claim(Instant now, Duration lease, int limit, CompletableFuture<List<Transaction>> done)
        implements Write {}
  }

  private void writeLoop() {
    List<Write> batch = new ArrayList<>(config.groupCommitMaxBatch());
    boolean concurrent = false;
    Connection connection = null;
    while (open || !queue.isEmpty()) {
      try {
        Write first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, config.groupCommitMaxBatch() - 1);
        if (concurrent && !config.groupCommitMaxWait().isZero()) {
          linger(batch);
        }
        concurrent = batch.size() > 1;
        if (connection == null) {
          connection = writerPool.getConnection();
        }
        runBatch(connection, batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(batch, new LogUnavailableException("the log is closing"));
        break;
      } catch (SQLException | RuntimeException e) {
        // The connection is suspect: hand it back and take a fresh one for the next batch.
        fail(batch, new LogUnavailableException("the log's database failed: " + e, e));
        connection = closeQuietly(connection);
      } finally {
        batch.clear();
      }
    }
    closeQuietly(connection);
    List<Write> left = new ArrayList<>();
    queue.drainTo(left);
    fail(left, new LogUnavailableException("the log is closed"));
  }

  private void linger(List<Write> batch) throws InterruptedException {
    long deadline = System.nanoTime() + config.groupCommitMaxWait().toNanos();
    while (batch.size() < config.groupCommitMaxBatch()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      Write next = queue.poll(left, TimeUnit.NANOSECONDS);
      if (next == null) {
        return;
      }
      batch.add(next);
      queue.drainTo(batch, config.groupCommitMaxBatch() - batch.size());
    }
  }

  private static Connection closeQuietly(Connection connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        LOG.debug("closing the writer's connection failed", e);
      }
    }
    return null;
  }

  private static void fail(List<Write> writes, RuntimeException failure) {
    for (Write write : writes) {
      write.done().completeExceptionally(failure);
    }
  }

  /** Runs {@code batch} in one transaction, or each write alone if a statement raised an error. */
  private void runBatch(Connection connection, List<Write> batch) throws SQLException {
    Object[] results = new Object[batch.size()];
    SQLException statementError = null;
    long startNanos = System.nanoTime();
    dialect.begin(connection);
    try {
      for (int i = 0; i < batch.size(); i++) {
        results[i] = run(connection, batch.get(i));
      }
      insertHistory(connection, batch, results);
    } catch (SQLException e) {
      statementError = e;
    }
    if (statementError != null) {
      dialect.rollback(connection);
      if (batch.size() == 1) {
        fail(batch, new LogUnavailableException("the log write failed: " + statementError));
        return;
      }
      for (Write write : batch) {
        runBatch(connection, List.of(write));
      }
      return;
    }
    try {
      dialect.commit(connection);
    } catch (SQLException e) {
      fail(
          batch,
          new LogUnavailableException(
              "the commit failed; it may or may not have happened: " + e, e));
      throw e;
    }
    int written = 0;
    for (int i = 0; i < batch.size(); i++) {
      if (results[i] == null && !(batch.get(i) instanceof Write.Claim)) {
        written++;
      }
    }
    // A batch of claims alone writes no transaction row; only commits that wrote one count.
    if (written > 0) {
      commits.incrementAndGet();
      records.addAndGet(written);
      writerListener.committed(written, Duration.ofNanos(System.nanoTime() - startNanos));
    }
    batches.incrementAndGet();
    for (int i = 0; i < batch.size(); i++) {
      complete(batch.get(i), results[i]);
    }
  }

  @SuppressWarnings("unchecked")
  private static void complete(Write write, Object result) {
    if (result instanceof RuntimeException refusal) {
      write.done().completeExceptionally(refusal);
    } else {
      ((CompletableFuture<Object>) write.done()).complete(result);
    }
  }

  /**
   * Carries out one write inside the writer's open transaction. Returns its result, or the
   * exception its caller must get (a refusal that leaves the batch intact).
   */
  private Object run(Connection connection, Write write) throws SQLException {
    return switch (write) {
      case Write.Create create ->
          withQueues(connection, create(connection, create.tx()), create.tx());
      case Write.Update update ->
          withQueues(connection, update(connection, update.tx()), update.tx());
      case Write.Claim claim -> claim(connection, claim);
    };
  }

  private Object create(Connection connection, Transaction tx) throws SQLException {
    try (PreparedStatement insert = connection.prepareStatement(sql.insert)) {
      insert.setString(1, tx.gid().value());
      insert.setString(2, tx.mode().code());
      insert.setInt(3, tx.status().code());
      insert.setLong(4, tx.version());
      insert.setLong(5, tx.createdAt().toEpochMilli());
      insert.setLong(6, tx.updatedAt().toEpochMilli());
      setWake(insert, 7, tx);
      insert.setBoolean(8, tx.isSettled());
      insert.setString(9, codec.encode(tx));
      setDead(insert, 10, tx);
      if (insert.executeUpdate() == 0) {
        return new DuplicateGidException("transaction " + tx.gid() + " already exists");
      }
    }
    return null;
  }

  private Object update(Connection connection, Transaction tx) throws SQLException {
    try (PreparedStatement update = connection.prepareStatement(sql.update)) {
      update.setInt(1, tx.status().code());
      update.setLong(2, tx.version());
      update.setLong(3, tx.updatedAt().toEpochMilli());
      setWake(update, 4, tx);
      update.setBoolean(5, tx.isSettled());
      update.setString(6, codec.encode(tx));
      setDead(update, 7, tx);
      update.setString(9, tx.gid().value());
      update.setLong(10, tx.version() - 1);
      update.setLong(11, epoch);
      if (update.executeUpdate() == 1) {
        return null;
      }
    }
    return whyNotUpdated(connection, tx);
  }

  /** The refusal of an update that wrote no row: a stale version, or a newer handle's lease. */
  private RuntimeException whyNotUpdated(Connection connection, Transaction tx)
      throws SQLException {
    try (PreparedStatement query = connection.prepareStatement(sql.leaseOf)) {
      query.setString(1, tx.gid().value());
      try (ResultSet row = query.executeQuery()) {
        if (!row.next()) {
          return new VersionConflictException("transaction " + tx.gid() + " does not exist");
        }
        long stored = row.getLong(1);
        if (stored != tx.version() - 1) {
          return new VersionConflictException(
              "transaction "
                  + tx.gid()
                  + " is at version "
                  + stored
                  + ", the write expected "
                  + (tx.version() - 1));
        }
        return new LeaseHeldException(
            "transaction "
                + tx.gid()
                + " is leased to epoch "
                + row.getLong(2)
                + " for another "
                + (row.getLong(3) - row.getLong(4))
                + " ms by the database's clock; this handle's epoch is "
                + epoch);
      }
    }
  }

  /**
   * Inserts the history entries of every write of {@code batch} that was not refused ({@code
   * results[i]} null), in the database transaction that wrote their states: one statement batch for
   * the whole commit, not one round trip per write.
   */
  private void insertHistory(Connection connection, List<Write> batch, Object[] results)
      throws SQLException {
    PreparedStatement insert = null;
    try {
      for (int i = 0; i < batch.size(); i++) {
        Transaction tx;
        List<HistoryEntry> entries;
        if (results[i] != null) {
          continue;
        } else if (batch.get(i) instanceof Write.Create create) {
          tx = create.tx();
          entries = create.history();
        } else if (batch.get(i) instanceof Write.Update update) {
          tx = update.tx();
          entries = update.history();
        } else {
          continue; // a claim writes no history
        }
        for (HistoryEntry entry : entries) {
          if (insert == null) {
            insert = connection.prepareStatement(sql.insertHistory);
          }
          insert.setString(1, tx.gid().value());
          insert.setLong(2, entry.at().toEpochMilli());
          insert.setInt(3, entry.at().getNano() % 1_000_000);
          insert.setLong(4, entry.version());
          setStatus(insert, 5, entry.from());
          setStatus(insert, 6, entry.to());
          insert.setString(7, entry.detail());
          insert.setInt(8, entry.kind().code());
          insert.setString(9, entry.subject());
          insert.setString(10, entry.op());
          insert.setString(11, entry.outcome());
          insert.setInt(12, entry.attempt());
          if (entry.latency() == null) {
            insert.setNull(13, Types.BIGINT);
          } else {
            insert.setLong(13, entry.latency().toNanos() / 1_000);
          }
          insert.addBatch();
        }
      }
      if (insert != null) {
        insert.executeBatch();
      }
    } finally {
      if (insert != null) {
        insert.close();
      }
    }
  }

  /**
   * Keeps the (subscription, key) queues of {@code tx}'s keyed deliveries in the same database
   * transaction as its write, when that write was not refused ({@code result} null): removes the
   * delivered and dead ones (making the next head's transaction due, when it is another), queues
   * the owed ones not queued yet, in message order, and marks the sent ones started. Returns {@code
   * result}.
   */
  private Object withQueues(Connection connection, Object result, Transaction tx)
      throws SQLException {
    if (result != null) {
      return result;
    }
    List<KeyQueues.Entry> entries = KeyQueues.entries(tx);
    if (entries.isEmpty()) {
      return null;
    }
    List<KeyQueues.Entry> out = new ArrayList<>();
    List<KeyQueues.Entry> owed = new ArrayList<>();
    List<KeyQueues.Entry> started = new ArrayList<>();
    for (KeyQueues.Entry entry : entries) {
      switch (entry.place()) {
        case OUT -> out.add(entry);
        case QUEUED -> owed.add(entry);
        case STARTED -> {
          owed.add(entry);
          started.add(entry);
        }
      }
    }
    if (!out.isEmpty()) {
      int[] removed;
      try (PreparedStatement delete = connection.prepareStatement(sql.dequeue)) {
        for (KeyQueues.Entry entry : out) {
          delete.setString(1, entry.messageId());
          delete.setString(2, entry.queue().subscription());
          delete.addBatch();
        }
        removed = delete.executeBatch();
      }
      for (int i = 0; i < out.size(); i++) {
        if (removed[i] != 0) { // a count, or "succeeded, count unknown" (-2)
          nudgeHead(connection, out.get(i).queue(), tx);
        }
      }
    }
    if (!owed.isEmpty()) {
      try (PreparedStatement insert = connection.prepareStatement(sql.enqueue)) {
        for (KeyQueues.Entry entry : owed) {
          insert.setString(1, entry.queue().subscription());
          insert.setString(2, KeyQueues.keyHash(entry.queue().key()));
          insert.setString(3, entry.queue().key());
          insert.setString(4, tx.gid().value());
          insert.setString(5, entry.messageId());
          insert.setBoolean(6, entry.place() == KeyQueues.Place.STARTED);
          insert.addBatch();
        }
        insert.executeBatch();
      }
    }
    if (!started.isEmpty()) {
      try (PreparedStatement mark = connection.prepareStatement(sql.markStarted)) {
        for (KeyQueues.Entry entry : started) {
          mark.setString(1, entry.messageId());
          mark.setString(2, entry.queue().subscription());
          mark.addBatch();
        }
        mark.executeBatch();
      }
    }
    return null;
  }

  /**
   * Makes the transaction now heading {@code queue} due at {@code tx}'s write, if it is another.
   */
  private void nudgeHead(Connection connection, QueueKey queue, Transaction tx)
      throws SQLException {
    String next = null;
    try (PreparedStatement head = connection.prepareStatement(sql.head)) {
      head.setString(1, queue.subscription());
      head.setString(2, KeyQueues.keyHash(queue.key()));
      try (ResultSet row = head.executeQuery()) {
        if (row.next()) {
          next = row.getString(1);
        }
      }
    }
    if (next == null || next.equals(tx.gid().value())) {
      return;
    }
    try (PreparedStatement nudge = connection.prepareStatement(sql.nudge)) {
      long at = tx.updatedAt().toEpochMilli();
      nudge.setLong(1, at);
      nudge.setString(2, next);
      nudge.setLong(3, at);
      nudge.executeUpdate();
    }
  }

  @Override
  public List<QueueHead> heads(Collection<QueueKey> queues) {
    List<QueueHead> heads = new ArrayList<>();
    try (Connection connection = readerPool.getConnection();
        PreparedStatement head = connection.prepareStatement(sql.head)) {
      for (QueueKey queue : new LinkedHashSet<>(queues)) {
        head.setString(1, queue.subscription());
        head.setString(2, KeyQueues.keyHash(queue.key()));
        try (ResultSet row = head.executeQuery()) {
          if (row.next()) {
            heads.add(
                new QueueHead(
                    queue, Gid.of(row.getString(1)), row.getString(2), row.getBoolean(3)));
          }
        }
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("reading the heads of key queues failed: " + e, e);
    }
    return heads;
  }

  private List<Transaction> claim(Connection connection, Write.Claim claim) throws SQLException {
    List<String> gids = new ArrayList<>();
    List<Transaction> claimed = new ArrayList<>();
    Map<Gid, Long> wakes = new HashMap<>();
    try (PreparedStatement select = connection.prepareStatement(sql.selectClaimable)) {
      select.setLong(1, claim.now().toEpochMilli());
      select.setLong(2, epoch);
      select.setInt(3, claim.limit());
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          gids.add(rows.getString(1));
          Transaction tx = codec.decode(rows.getString(2));
          claimed.add(tx);
          wakes.put(tx.gid(), rows.getLong(3));
        }
      }
    }
    if (gids.isEmpty()) {
      return List.of();
    }
    try (PreparedStatement lease = connection.prepareStatement(sql.lease)) {
      for (String gid : gids) {
        lease.setLong(1, epoch);
        lease.setLong(2, claim.lease().toMillis());
        lease.setString(3, gid);
        lease.addBatch();
      }
      lease.executeBatch();
    }
    // By the stored wake-up, which a freed key queue may have made earlier than the state's own.
    claimed.sort(
        Comparator.comparing((Transaction tx) -> wakes.get(tx.gid()))
            .thenComparing(Transaction::gid));
    return List.copyOf(claimed);
  }

  /** Sets {@code dead} at {@code index} and {@code dead_subscriptions} after it. */
  private static void setDead(PreparedStatement statement, int index, Transaction tx)
      throws SQLException {
    SortedSet<String> dead = tx.deadSubscriptions();
    statement.setBoolean(index, !dead.isEmpty());
    if (dead.isEmpty()) {
      statement.setNull(index + 1, Types.VARCHAR);
    } else {
      statement.setString(index + 1, "," + String.join(",", dead) + ",");
    }
  }

  private static void setWake(PreparedStatement statement, int index, Transaction tx)
      throws SQLException {
    Instant wake = tx.isSettled() ? null : tx.wakeAt();
    if (wake == null) {
      statement.setNull(index, Types.BIGINT);
    } else {
      statement.setLong(index, wake.toEpochMilli());
    }
  }

  private static void setStatus(PreparedStatement statement, int index, Status status)
      throws SQLException {
    if (status == null) {
      statement.setNull(index, Types.SMALLINT);
    } else {
      statement.setInt(index, status.code());
    }
  }

  // --- subscriptions: rare, small, written with one auto-committed statement ---

  @Override
  public void put(Subscription subscription) {
    try (Connection connection = readerPool.getConnection();
        PreparedStatement upsert = connection.prepareStatement(sql.upsertSubscription)) {
      upsert.setString(1, subscription.name());
      upsert.setString(2, subscription.topic());
      upsert.setString(3, subscription.target());
      upsert.executeUpdate();
    } catch (SQLException e) {
      throw new LogUnavailableException(
          "storing subscription " + subscription.name() + " failed: " + e, e);
    }
  }

  @Override
  public List<Subscription> all() {
    List<Subscription> out = new ArrayList<>();
    try (Connection connection = readerPool.getConnection();
        PreparedStatement query = connection.prepareStatement(sql.subscriptions);
        ResultSet rows = query.executeQuery()) {
      while (rows.next()) {
        out.add(new Subscription(rows.getString(1), rows.getString(2), rows.getString(3)));
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("reading the subscriptions failed: " + e, e);
    }
    return out;
  }

  // --- the audit log: rare, small, written with one auto-committed statement ---

  @Override
  public void append(AuditEntry entry) {
    try (Connection connection = readerPool.getConnection();
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO "
                    + sql.prefix
                    + "audit (at_millis, actor, action, gid, reason, result)"
                    + " VALUES (?, ?, ?, ?, ?, ?)")) {
      insert.setLong(1, entry.at().toEpochMilli());
      insert.setString(2, entry.actor());
      insert.setString(3, entry.action());
      insert.setString(4, entry.gid() == null ? null : entry.gid().value());
      insert.setString(5, entry.reason());
      insert.setString(6, entry.result());
      insert.executeUpdate();
    } catch (SQLException e) {
      throw new LogUnavailableException("appending to the audit log failed: " + e, e);
    }
  }

  @Override
  public List<AuditEntry> recent(Gid gid, int limit) {
    if (limit < 1 || limit > AuditLog.MAX_LIMIT) {
      throw new IllegalArgumentException(
          "limit must be in [1, " + AuditLog.MAX_LIMIT + "], got " + limit);
    }
    String text =
        "SELECT at_millis, actor, action, gid, reason, result FROM "
            + sql.prefix
            + "audit"
            + (gid == null ? "" : " WHERE gid = ?")
            + " ORDER BY seq DESC LIMIT ?";
    List<AuditEntry> entries = new ArrayList<>();
    try (Connection connection = readerPool.getConnection();
        PreparedStatement query = connection.prepareStatement(text)) {
      int i = 1;
      if (gid != null) {
        query.setString(i++, gid.value());
      }
      query.setInt(i, limit);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          String about = rows.getString(4);
          entries.add(
              new AuditEntry(
                  Instant.ofEpochMilli(rows.getLong(1)),
                  rows.getString(2),
                  rows.getString(3),
                  about == null ? null : Gid.of(about),
                  rows.getString(5),
                  rows.getString(6)));
        }
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("reading the audit log failed: " + e, e);
    }
    return entries;
  }

  // --- reads: the readers' pool ---

  @Override
  public Optional<Transaction> load(Gid gid) {
    return read(sql.load, statement -> statement.setString(1, gid.value()), 1).stream().findFirst();
  }

  @Override
  public long version(Gid gid) {
    try (Connection connection = readerPool.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql.version)) {
      statement.setString(1, gid.value());
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? rows.getLong(1) : 0;
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("reading the log failed: " + e, e);
    }
  }

  @Override
  public List<Transaction> due(Instant now, int limit) {
    return read(
        sql.due,
        statement -> {
          statement.setLong(1, now.toEpochMilli());
          statement.setInt(2, limit);
        },
        limit);
  }

  @Override
  public List<Transaction> unsettled(Gid afterGid, int limit) {
    return read(
        sql.unsettled,
        statement -> {
          statement.setString(1, afterGid == null ? "" : afterGid.value());
          statement.setInt(2, limit);
        },
        limit);
  }

  @Override
  public Page page(Query query) {
    long before = query.cursor() == null ? Long.MAX_VALUE : parseCursor(query.cursor());
    StringBuilder where = new StringBuilder(" WHERE seq < ?");
    if (query.status() != null) {
      where.append(" AND status = ?");
    }
    if (query.mode() != null) {
      where.append(" AND mode = ?");
    }
    if (query.gidContains() != null) {
      // A plain substring search, case-sensitive on every database: not LIKE, where SQLite
      // ignores case and the gid character '_' is a wildcard.
      where.append(
          switch (dialect) {
            case SQLITE -> " AND instr(gid, ?) > 0";
            case POSTGRESQL -> " AND strpos(gid, ?) > 0";
            case MARIADB -> " AND LOCATE(?, gid) > 0";
          });
    }
    if (query.createdAfter() != null) {
      where.append(" AND created_at_millis >= ?");
    }
    if (query.createdBefore() != null) {
      where.append(" AND created_at_millis < ?");
    }
    if (query.withDeadLetters()) {
      where.append(" AND dead = TRUE");
    }
    if (query.deadTo() != null) {
      // ",name," in ",a,b,": names hold no comma, and a substring search has no wildcards.
      where.append(
          switch (dialect) {
            case SQLITE -> " AND instr(dead_subscriptions, ?) > 0";
            case POSTGRESQL -> " AND strpos(dead_subscriptions, ?) > 0";
            case MARIADB -> " AND LOCATE(?, dead_subscriptions) > 0";
          });
    }
    String text =
        "SELECT seq, state FROM " + sql.transactions + where + " ORDER BY seq DESC LIMIT ?";
    List<Transaction> items = new ArrayList<>();
    long lastSeq = 0;
    boolean more = false;
    try (Connection connection = readerPool.getConnection();
        PreparedStatement statement = connection.prepareStatement(text)) {
      int i = 1;
      statement.setLong(i++, before);
      if (query.status() != null) {
        statement.setInt(i++, query.status().code());
      }
      if (query.mode() != null) {
        statement.setString(i++, query.mode().code());
      }
      if (query.gidContains() != null) {
        statement.setString(i++, query.gidContains());
      }
      if (query.createdAfter() != null) {
        statement.setLong(i++, query.createdAfter().toEpochMilli());
      }
      if (query.createdBefore() != null) {
        statement.setLong(i++, query.createdBefore().toEpochMilli());
      }
      if (query.deadTo() != null) {
        statement.setString(i++, "," + query.deadTo() + ",");
      }
      statement.setInt(i, query.limit() + 1);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          if (items.size() == query.limit()) {
            more = true;
            break;
          }
          lastSeq = rows.getLong(1);
          items.add(codec.decode(rows.getString(2)));
        }
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("reading a page of the log failed: " + e, e);
    }
    return new Page(items, more ? Long.toString(lastSeq) : null);
  }

  @Override
  public List<Count> counts() {
    List<Count> counts = new ArrayList<>();
    try (Connection connection = readerPool.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT mode, status, COUNT(*) FROM "
                    + sql.transactions
                    + " GROUP BY mode, status");
        ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        counts.add(
            new Count(
                Mode.fromCode(rows.getString(1)),
                Status.fromCode((byte) rows.getInt(2)),
                rows.getLong(3)));
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("counting the log's transactions failed: " + e, e);
    }
    return counts;
  }

  private static long parseCursor(String cursor) {
    try {
      return Long.parseLong(cursor);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cursor '" + cursor + "' was not made by this log", e);
    }
  }

  @Override
  public List<HistoryEntry> history(Gid gid) {
    List<HistoryEntry> entries = new ArrayList<>();
    try (Connection connection = readerPool.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql.history)) {
      statement.setString(1, gid.value());
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          Instant at = Instant.ofEpochMilli(rows.getLong(1)).plusNanos(rows.getInt(2));
          long latencyMicros = rows.getLong(12);
          Duration latency = rows.wasNull() ? null : Duration.ofNanos(latencyMicros * 1_000);
          entries.add(
              new HistoryEntry(
                  at,
                  rows.getLong(3),
                  HistoryEntry.Kind.fromCode(rows.getInt(7)),
                  rows.getString(8),
                  rows.getString(9),
                  status(rows, 4),
                  status(rows, 5),
                  rows.getString(10),
                  rows.getInt(11),
                  latency,
                  rows.getString(6)));
        }
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("reading the history of " + gid + " failed: " + e, e);
    }
    return entries;
  }

  private static Status status(ResultSet rows, int column) throws SQLException {
    int code = rows.getInt(column);
    return rows.wasNull() ? null : Status.fromCode((byte) code);
  }

  private interface Binder {
    void bind(PreparedStatement statement) throws SQLException;
  }

  private List<Transaction> read(String text, Binder binder, int limit) {
    List<Transaction> out = new ArrayList<>(Math.min(limit, 64));
    try (Connection connection = readerPool.getConnection();
        PreparedStatement statement = connection.prepareStatement(text)) {
      binder.bind(statement);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          out.add(codec.decode(rows.getString(1)));
        }
      }
    } catch (SQLException e) {
      throw new LogUnavailableException("reading the log failed: " + e, e);
    }
    return out;
  }

  /**
   * Stops taking writes, lets the writer finish what is queued (bounded by {@link #WRITE_TIMEOUT}),
   * and closes the pools.
   */
  @Override
  public void close() {
    if (!open) {
      return;
    }
    open = false;
    try {
      writer.join(WRITE_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writer.interrupt();
    writerPool.close();
    readerPool.close();
  }

  /** The statements, made once per log with its table names and its database's clock. */
  private static final class Sql {
    final String prefix;
    final String transactions;
    final String insert;
    final String update;
    final String leaseOf;
    final String load;
    final String version;
    final String due;
    final String unsettled;
    final String history;
    final String insertHistory;
    final String insertEpoch;
    final String selectClaimable;
    final String lease;
    final String upsertSubscription;
    final String subscriptions;
    final String enqueue;
    final String dequeue;
    final String markStarted;
    final String head;
    final String nudge;

    Sql(Dialect dialect, String prefix) {
      this.prefix = prefix;
      transactions = prefix + "transactions";
      String now = dialect.nowMillis();
      insert =
          dialect.insertUnlessPresent(transactions, COLUMNS, "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
      update =
          "UPDATE "
              + transactions
              + " SET status = ?, version = ?, updated_at_millis = ?, wake_at_millis = ?,"
              + " settled = ?, state = ?, dead = ?, dead_subscriptions = ?"
              + " WHERE gid = ? AND version = ?"
              + " AND NOT (lease_epoch > ? AND lease_until_millis > "
              + now
              + ")";
      leaseOf =
          "SELECT version, lease_epoch, lease_until_millis, "
              + now
              + " FROM "
              + transactions
              + " WHERE gid = ?";
      load = "SELECT state FROM " + transactions + " WHERE gid = ?";
      version = "SELECT version FROM " + transactions + " WHERE gid = ?";
      due =
          "SELECT state FROM "
              + transactions
              + " WHERE wake_at_millis <= ? ORDER BY wake_at_millis, gid LIMIT ?";
      unsettled =
          "SELECT state FROM "
              + transactions
              + " WHERE settled = FALSE AND gid > ? ORDER BY gid LIMIT ?";
      history =
          "SELECT at_millis, at_nanos, version, from_status, to_status, what, kind, subject, op,"
              + " outcome, attempt, latency_micros FROM "
              + prefix
              + "history WHERE gid = ? ORDER BY seq";
      insertHistory =
          "INSERT INTO "
              + prefix
              + "history (gid, at_millis, at_nanos, version, from_status, to_status, what,"
              + " kind, subject, op, outcome, attempt, latency_micros)"
              + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      insertEpoch = "INSERT INTO " + prefix + "epochs (opened_at_millis) VALUES (?)";
      selectClaimable =
          "SELECT gid, state, wake_at_millis FROM "
              + transactions
              + " WHERE wake_at_millis <= ? AND (lease_epoch = ? OR lease_until_millis <= "
              + now
              + ") ORDER BY wake_at_millis, gid LIMIT ?"
              + dialect.lockRowsSkippingLocked();
      lease =
          "UPDATE "
              + transactions
              + " SET lease_epoch = ?, lease_until_millis = "
              + now
              + " + ? WHERE gid = ?";
      upsertSubscription = dialect.upsertSubscription(prefix + "subscriptions");
      subscriptions = "SELECT name, topic, target FROM " + prefix + "subscriptions ORDER BY name";
      String queue = prefix + "key_queue";
      String enqueueColumns = " (subscription, key_hash, msg_key, gid, message_id, started)";
      enqueue =
          switch (dialect) {
            case SQLITE, POSTGRESQL ->
                "INSERT INTO "
                    + queue
                    + enqueueColumns
                    + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, subscription) DO NOTHING";
            // Only the duplicate key is ever ignored: every value is checked before (names, key
            // length, the hash's shape).
            case MARIADB ->
                "INSERT IGNORE INTO " + queue + enqueueColumns + " VALUES (?, ?, ?, ?, ?, ?)";
          };
      dequeue = "DELETE FROM " + queue + " WHERE message_id = ? AND subscription = ?";
      markStarted =
          "UPDATE "
              + queue
              + " SET started = TRUE WHERE message_id = ? AND subscription = ? AND started = FALSE";
      head =
          "SELECT gid, message_id, started FROM "
              + queue
              + " WHERE subscription = ? AND key_hash = ? ORDER BY started DESC, seq LIMIT 1";
      nudge =
          "UPDATE "
              + transactions
              + " SET wake_at_millis = ? WHERE gid = ? AND settled = FALSE"
              + " AND (wake_at_millis IS NULL OR wake_at_millis > ?)";
    }
  }
}
