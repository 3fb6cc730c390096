package dev.pledge.eventstore;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: one thread takes the appends that are waiting (up to {@code maxAppendsPerCommit})
 * and runs them in one local transaction, so that many appends share one commit (one disk flush)
 * and, on MariaDB and SQLite, one position lock, which serialises appends there; this is what keeps
 * their rate near the database's commit rate instead of one append per flush.
 *
 * <p>When a batch fails for a reason other than a conflict (which is an outcome, not a failure),
 * its appends are run again one per transaction, so that one bad append (a publisher that throws, a
 * value the database refuses) fails alone. When the commit itself fails, the outcome is unknown and
 * every append of the batch is told so.
 */
final class AppendWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppendWriter.class);

  private record Pending(Appender.Request request, CompletableFuture<AppendResult> result) {}

  private final DataSource pool;
  private final Appender appender;
  private final Clock clock;
  private final int maxBatch;
  private final LongConsumer committed;
  private final BlockingQueue<Pending> queue;
  private final Thread thread;
  private final int lanes;
  private final ExecutorService laneThreads;

  /** Streams of the batches in flight (guarded by itself); never shared by two batches. */
  private final Set<String> inFlightStreams = new HashSet<>();

  private int inFlightBatches;
  private volatile boolean closed;

  AppendWriter(
      DataSource pool,
      Appender appender,
      Clock clock,
      int maxBatch,
      int maxPending,
      int lanes,
      LongConsumer committed) {
    this.pool = pool;
    this.appender = appender;
    this.clock = clock;
    this.maxBatch = maxBatch;
    this.committed = committed;
    this.queue = new ArrayBlockingQueue<>(maxPending);
    // More than one batch in flight only where one batch is one auto-committed call, whose
    // call takes no position lock (PostgreSQL, docs/eventstore.md "Positions"), so batches of
    // different streams commit in parallel.
    this.lanes = appender.oneStatement() ? lanes : 1;
    this.laneThreads =
        this.lanes == 1
            ? null
            : Executors.newFixedThreadPool(
                this.lanes, Thread.ofPlatform().name("pledge-es-writer-", 1).daemon().factory());
    this.thread = Thread.ofPlatform().name("pledge-es-writer").daemon().start(this::run);
  }

  CompletableFuture<AppendResult> submit(Appender.Request request) {
    CompletableFuture<AppendResult> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(new EventStoreException("the event store is closed"));
    } else if (!queue.offer(new Pending(request, result))) {
      result.completeExceptionally(
          new EventStoreException(
              "append refused: "
                  + queue.size()
                  + " appends are already waiting for the writer (maxPendingAppends)"));
    }
    return result;
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(maxBatch);
    while (!closed || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, maxBatch - 1);
        if (laneThreads == null) {
          write(batch);
        } else {
          dispatch(List.copyOf(batch));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        // A programmer error: fail the batch's appends, keep the writer alive for the next.
        log.error("event store writer: unexpected failure of a batch", e);
        batch.forEach(p -> p.result().completeExceptionally(e));
      } finally {
        batch.clear();
      }
    }
    for (Pending pending; (pending = queue.poll()) != null; ) {
      pending.result().completeExceptionally(new EventStoreException("the event store is closed"));
    }
    if (laneThreads != null) {
      laneThreads.shutdown();
    }
  }

  /**
   * Hands {@code batch} to a lane once fewer than {@code lanes} batches are in flight and none of
   * them names a stream of this one (so that each stream's appends commit in submission order).
   */
  private void dispatch(List<Pending> batch) throws InterruptedException {
    Set<String> streams = new HashSet<>();
    batch.forEach(p -> streams.add(p.request().streamId()));
    synchronized (inFlightStreams) {
      while (inFlightBatches >= lanes || !Collections.disjoint(inFlightStreams, streams)) {
        inFlightStreams.wait();
      }
      inFlightStreams.addAll(streams);
      inFlightBatches++;
    }
    laneThreads.execute(() -> {
      try {
        write(batch);
      } catch (RuntimeException e) {
        log.error("event store writer: unexpected failure of a batch", e);
        batch.forEach(p -> p.result().completeExceptionally(e));
      } finally {
        synchronized (inFlightStreams) {
          inFlightStreams.removeAll(streams);
          inFlightBatches--;
          inFlightStreams.notifyAll();
        }
      }
    });
  }

  /** How often an append that lost a race to another process's append is run again. */
  private static final int MAX_RACE_RETRIES = 3;

  private void write(List<Pending> batch) {
    write(batch, 0);
  }

  private void write(List<Pending> batch, int attempt) {
    try {
      List<Appender.Outcome> outcomes = transaction(batch);
      complete(batch, outcomes);
    } catch (CommitUnknown e) {
      for (Pending pending : batch) {
        pending
            .result()
            .completeExceptionally(
                new EventStoreException(
                    "append to '"
                        + pending.request().streamId()
                        + "': the commit failed, so whether it was stored is unknown: "
                        + e.getCause().getMessage(),
                    e.getCause()));
      }
    } catch (SQLException e) {
      if (batch.size() == 1 && "40001".equals(e.getSQLState()) && attempt < MAX_RACE_RETRIES) {
        // PostgreSQL: an "any" append lost a race to another process; nothing was stored.
        write(batch, attempt + 1);
        return;
      }
      if (batch.size() == 1) {
        Pending pending = batch.getFirst();
        pending
            .result()
            .completeExceptionally(
                new EventStoreException(
                    "append to '"
                        + pending.request().streamId()
                        + "' failed, nothing of it was stored: "
                        + e.getMessage(),
                    e));
        return;
      }
      log.warn(
          "event store writer: a batch of {} appends failed ({}); running them one by one",
          batch.size(),
          e.getMessage());
      for (Pending pending : batch) {
        write(List.of(pending));
      }
    }
  }

  private void complete(List<Pending> batch, List<Appender.Outcome> outcomes) {
    long last = 0;
    for (int i = 0; i < batch.size(); i++) {
      CompletableFuture<AppendResult> result = batch.get(i).result();
      switch (outcomes.get(i)) {
        case Appender.Outcome.Appended appended -> {
          last = Math.max(last, appended.result().lastPosition());
          result.complete(appended.result());
        }
        case Appender.Outcome.Conflict conflict ->
            result.completeExceptionally(conflict.conflict());
      }
    }
    if (last > 0) {
      committed.accept(last);
    }
  }

  /** Thrown when the commit itself failed: the transaction may or may not have committed. */
  private static final class CommitUnknown extends Exception {
    private static final long serialVersionUID = 1L;

    CommitUnknown(SQLException cause) {
      super(cause);
    }
  }

  private List<Appender.Outcome> transaction(List<Pending> batch)
      throws SQLException, CommitUnknown {
    List<Appender.Request> requests = new ArrayList<>(batch.size());
    batch.forEach(p -> requests.add(p.request()));
    try (Connection connection = pool.getConnection()) {
      if (appender.oneStatement()) {
        // One auto-committed statement is the whole transaction (PostgreSQL, nothing to publish):
        // an error the server answered means nothing was stored; a connection lost on the way
        // leaves the outcome unknown. Auto-commit is set here, not assumed from the pool: a call
        // left in an open transaction would be rolled back when the connection goes back.
        connection.setAutoCommit(true);
        try {
          return appender.append(connection, requests, clock.instant());
        } catch (SQLException e) {
          if (e.getSQLState() == null || e.getSQLState().startsWith("08")) {
            throw new CommitUnknown(e);
          }
          throw e;
        }
      }
      connection.setAutoCommit(false);
      List<Appender.Outcome> outcomes;
      try {
        outcomes = appender.append(connection, requests, clock.instant());
      } catch (SQLException | RuntimeException e) {
        rollback(connection, e);
        throw e;
      }
      try {
        connection.commit();
      } catch (SQLException e) {
        throw new CommitUnknown(e);
      }
      connection.setAutoCommit(true);
      return outcomes;
    }
  }

  static void rollback(Connection connection, Exception cause) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
      if (laneThreads != null) {
        laneThreads.shutdown();
        laneThreads.awaitTermination(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
