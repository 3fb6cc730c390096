package dev.pledge.core.spi;

import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.history.HistoryEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The durable log of global transactions: the only state a coordinator keeps. After a crash a
 * coordinator knows exactly what this log returns, so every decision is written here before any
 * effect that reveals it starts (persist, then act).
 *
 * <p>Contract, checked by the testkit's {@code TransactionLogContract} for every implementation:
 *
 * <ul>
 *   <li>{@link #create} stores version 1 of a new gid; a second create of the same gid throws
 *       {@link DuplicateGidException} and changes nothing.
 *   <li>{@link #update} stores {@code next} only if the stored version is exactly {@code
 *       next.version() - 1}; otherwise it throws {@link VersionConflictException} and changes
 *       nothing. Of two racing writers of the same version, exactly one wins.
 *   <li>Once a call returns, what it wrote survives a crash of the process (and, for the durable
 *       implementations, of the machine).
 *   <li>{@link #due} returns transactions with something to do at {@code now}: their {@link
 *       Transaction#wakeAt()} is at or before it. {@link #unsettled} returns every transaction that
 *       is not final or still owes deliveries: what recovery must look at.
 *   <li>Operating failures (the database down, a timeout) throw {@link LogUnavailableException};
 *       the write may or may not have happened, and the caller reloads before trying again.
 *   <li>Leases: each handle on a log has an {@link #epoch()}, greater than that of every handle
 *       opened on the same storage before it. {@link #claimDue} takes a lease on due work for this
 *       handle; a lease's expiry is judged by the log's own clock (the database's, for a shared
 *       database), never by the caller's. While a handle of a newer epoch holds a live lease on a
 *       transaction, an {@link #update} through an older handle throws {@link LeaseHeldException}
 *       and changes nothing: a coordinator that paused, or whose clock is skewed, is fenced off
 *       work another coordinator has taken over.
 *   <li>Key queues (order per key across transactions): see {@link #heads}.
 * </ul>
 */
public interface TransactionLog {

  /**
   * Stores the first version of a new transaction with the first entries of its history, in one
   * write: both are stored or neither.
   */
  void create(Transaction first, List<HistoryEntry> history);

  /**
   * Replaces the stored version {@code next.version() - 1} with {@code next} and appends {@code
   * history} to the transaction's history, in one write: both are stored or neither (a refused
   * update appends nothing).
   */
  void update(Transaction next, List<HistoryEntry> history);

  /** {@link #create(Transaction, List)} with no history. */
  default void create(Transaction first) {
    create(first, List.of());
  }

  /** {@link #update(Transaction, List)} with no history. */
  default void update(Transaction next) {
    update(next, List.of());
  }

  Optional<Transaction> load(Gid gid);

  /**
   * The stored version of {@code gid}, or 0 when there is none: the version of what {@link #load}
   * answers, read without decoding the state (a coordinator checks its copy in memory with it).
   */
  default long version(Gid gid) {
    return load(gid).map(Transaction::version).orElse(0L);
  }

  /**
   * Up to {@code limit} transactions whose wake-up time is at or before {@code now}, earliest
   * first.
   */
  List<Transaction> due(Instant now, int limit);

  /**
   * Takes up to {@code limit} transactions that are due at {@code now} (as {@link #due}) and whose
   * lease is free (never taken, expired by the log's clock, or this handle's own), and leases them
   * to this handle for {@code lease}, measured by the log's clock. Earliest wake-up first. Two
   * handles claiming at once never both get the same transaction while its lease lives.
   */
  List<Transaction> claimDue(Instant now, Duration lease, int limit);

  /**
   * This handle's fencing epoch: greater than the epoch of every handle opened before it on the
   * same storage.
   */
  long epoch();

  /**
   * Up to {@code limit} transactions that are not settled, after {@code afterGid} (null: from the
   * start), by gid.
   */
  List<Transaction> unsettled(Gid afterGid, int limit);

  /**
   * A page of transactions, newest first (by creation), filtered by every criterion of {@code
   * query} that is given. Walking the cursors of a query visits each matching transaction at most
   * once, even while others are created and updated.
   */
  Page page(Query query);

  /**
   * How many transactions the log holds, by mode and status, one row per pair that has any: what an
   * operator's console shows as live counts. Reads every row's mode and status (an index scan on
   * the JDBC logs), so callers poll it every few seconds at most.
   */
  List<Count> counts();

  /**
   * The history of a transaction, oldest first: every entry written with its creates and updates,
   * in the order written. Empty for an unknown gid.
   */
  List<HistoryEntry> history(Gid gid);

  /**
   * The heads of the given (subscription, key) queues, one per queue that is not empty, in no
   * particular order.
   *
   * <p>Every create and update of a msg transaction keeps these queues in the same write: a
   * delivery of a message that has a key is in the queue of its (subscription, key) from the first
   * write in which it is owed (its status not done) until the write in which it is done
   * (acknowledged, or dead); a write that makes it owed again (a re-drive) puts it at the tail. A
   * queue's order is the order of those writes, and within one write the order of the transaction's
   * messages: commit order. A delivery written active (in flight or waiting) is <em>started</em>,
   * and stays so while it is queued.
   *
   * <p>A queue's head is its started delivery, if it has one (at most one has, since only the head
   * is ever sent), and otherwise its earliest. A write that removes a queue's head whose next
   * delivery belongs to another transaction also makes that transaction due (for {@link #due} and
   * {@link #claimDue}) at the write's {@code updatedAt}, unless it was due earlier: a coordinator
   * that did not see the head leave, sharing the log, still finds the next one's work.
   */
  List<QueueHead> heads(Collection<QueueKey> queues);

  /** A (subscription, key) queue of deliveries. */
  record QueueKey(String subscription, String key) {
    public QueueKey {
      Objects.requireNonNull(subscription, "subscription");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * The delivery at the head of a queue: of message {@code messageId} of transaction {@code gid};
   * {@code started} when it was written active (it has been sent).
   */
  record QueueHead(QueueKey queue, Gid gid, String messageId, boolean started) {
    public QueueHead {
      Objects.requireNonNull(queue, "queue");
      Objects.requireNonNull(gid, "gid");
      Objects.requireNonNull(messageId, "messageId");
    }
  }

  /**
   * A page request. Every criterion but {@code limit} is optional (null or false: any).
   *
   * @param status only transactions in this status
   * @param mode only transactions of this mode
   * @param gidContains only transactions whose gid contains this text, case-sensitively, as plain
   *     text (no wildcards); it is itself made of gid characters
   * @param createdAfter only transactions created at or after this instant (to the millisecond)
   * @param createdBefore only transactions created strictly before this instant (to the
   *     millisecond): with {@code now - age}, those older than {@code age}
   * @param withDeadLetters only transactions holding at least one dead delivery (a dead letter):
   *     what the dead-letter listing pages through; the JDBC logs index it
   * @param deadTo only transactions with a dead delivery to this subscription (requires {@code
   *     withDeadLetters}); it is made of subscription-name characters
   * @param limit the most transactions on the page, in [1, {@value #MAX_LIMIT}]
   * @param cursor the opaque cursor of the previous page, or null for the first
   */
  record Query(
      Status status,
      Mode mode,
      String gidContains,
      Instant createdAfter,
      Instant createdBefore,
      boolean withDeadLetters,
      String deadTo,
      int limit,
      String cursor) {
    public static final int MAX_LIMIT = 500;

    /** What a subscription's name is made of (the API's rule, repeated for the log's filter). */
    public static final Pattern SUBSCRIPTION_NAME = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    public Query {
      if (limit < 1 || limit > MAX_LIMIT) {
        throw new IllegalArgumentException("limit must be in [1, " + MAX_LIMIT + "], got " + limit);
      }
      if (gidContains != null && !Gid.isValid(gidContains)) {
        throw new IllegalArgumentException(
            "gidContains must match [A-Za-z0-9._:-]{1,128}, got '" + gidContains + "'");
      }
      if (deadTo != null && !withDeadLetters) {
        throw new IllegalArgumentException("deadTo '" + deadTo + "' requires withDeadLetters");
      }
      if (deadTo != null && !SUBSCRIPTION_NAME.matcher(deadTo).matches()) {
        throw new IllegalArgumentException(
            "deadTo must match " + SUBSCRIPTION_NAME.pattern() + ", got '" + deadTo + "'");
      }
    }

    /** A query by every criterion but dead letters. */
    public Query(
        Status status,
        Mode mode,
        String gidContains,
        Instant createdAfter,
        Instant createdBefore,
        int limit,
        String cursor) {
      this(status, mode, gidContains, createdAfter, createdBefore, false, null, limit, cursor);
    }

    /** A query by status and mode only. */
    public Query(Status status, Mode mode, int limit, String cursor) {
      this(status, mode, null, null, null, limit, cursor);
    }

    /**
     * The transactions holding dead letters, to {@code subscription} when it is not null, newest
     * first.
     */
    public static Query deadLetters(String subscription, int limit, String cursor) {
      return new Query(null, null, null, null, null, true, subscription, limit, cursor);
    }

    /** Whether {@code tx} meets every criterion but the cursor: what implementations filter by. */
    public boolean matches(Transaction tx) {
      long created = tx.createdAt().toEpochMilli();
      return (status == null || tx.status() == status)
          && (mode == null || tx.mode() == mode)
          && (gidContains == null || tx.gid().value().contains(gidContains))
          && (createdAfter == null || created >= createdAfter.toEpochMilli())
          && (createdBefore == null || created < createdBefore.toEpochMilli())
          && (!withDeadLetters || !tx.deadSubscriptions().isEmpty())
          && (deadTo == null || tx.deadSubscriptions().contains(deadTo));
    }
  }

  /** How many transactions of {@code mode} are in {@code status}. */
  record Count(Mode mode, Status status, long transactions) {}

  /** One page, and the cursor of the next (null when this is the last). */
  record Page(List<Transaction> items, String nextCursor) {
    public Page {
      items = List.copyOf(items);
    }
  }
}
