package dev.pledge.core;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * A global transaction's whole durable state, as the log holds it. Immutable: a decider returns a
 * new one. {@code version} grows by one with every logged change; the log refuses a write whose
 * version is not exactly one more than the stored one, so two writers can never both win.
 *
 * @param deadline the end of the undecided phase (abort for saga, tcc, 2pc, xa, 3pc before
 *     pre-commit; commit for 3pc after it; check-back for msg)
 * @param check the check-back's progress (msg only, otherwise {@link Progress#IDLE})
 * @param flag why an operator should look at this transaction, or null
 */
public record Transaction(
    Gid gid,
    Mode mode,
    Status status,
    long version,
    Instant createdAt,
    Instant updatedAt,
    Instant deadline,
    String checkUrl,
    Progress check,
    List<Branch> branches,
    List<Message> messages,
    String flag) {

  public Transaction {
    Objects.requireNonNull(gid, "gid");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(deadline, "deadline");
    Objects.requireNonNull(check, "check");
    branches = List.copyOf(branches);
    messages = List.copyOf(messages);
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1, got " + version);
    }
  }

  public Branch branch(String branchId) {
    for (Branch branch : branches) {
      if (branch.branchId().equals(branchId)) {
        return branch;
      }
    }
    return null;
  }

  public Message message(String messageId) {
    for (Message message : messages) {
      if (message.messageId().equals(messageId)) {
        return message;
      }
    }
    return null;
  }

  public boolean isFinal() {
    return status.isFinal();
  }

  /**
   * Whether deliveries of committed messages are still owed, which keeps a final msg transaction
   * busy.
   */
  public boolean hasPendingDeliveries() {
    for (Message message : messages) {
      for (Delivery delivery : message.deliveries()) {
        if (!delivery.progress().status().isDone()) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The subscriptions holding at least one dead delivery of this transaction, sorted, without
   * duplicates: what the log indexes to list dead letters.
   */
  public SortedSet<String> deadSubscriptions() {
    SortedSet<String> dead = new TreeSet<>();
    for (Message message : messages) {
      for (Delivery delivery : message.deliveries()) {
        if (delivery.progress().status() == OpStatus.DEAD) {
          dead.add(delivery.subscription());
        }
      }
    }
    return dead;
  }

  /** Whether nothing more will ever happen to this transaction unless an operator asks. */
  public boolean isSettled() {
    return isFinal() && !hasPendingDeliveries();
  }

  /**
   * The earliest instant at which a {@code Tick} has something to do: an answer overdue, a retry
   * due, the undecided phase ending; null when nothing is scheduled. The log indexes it to find due
   * work.
   */
  public Instant wakeAt() {
    Instant earliest = null;
    if (status == Status.BEGUN || (status == Status.PREPARED && check.status() == OpStatus.IDLE)) {
      earliest = deadline;
    }
    earliest = min(earliest, check.dueAt());
    for (Branch branch : branches) {
      for (Progress progress : branch.ops().values()) {
        earliest = min(earliest, progress.dueAt());
      }
    }
    for (Message message : messages) {
      for (Delivery delivery : message.deliveries()) {
        earliest = min(earliest, delivery.progress().dueAt());
      }
    }
    return earliest;
  }

  private static Instant min(Instant a, Instant b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return a.isBefore(b) ? a : b;
  }

  public Transaction withStatus(Status next) {
    return new Transaction(
        gid, mode, next, version, createdAt, updatedAt, deadline, checkUrl, check, branches,
        messages, flag);
  }

  public Transaction withDeadline(Instant next) {
    return new Transaction(
        gid, mode, status, version, createdAt, updatedAt, next, checkUrl, check, branches, messages,
        flag);
  }

  public Transaction withCheck(Progress next) {
    return new Transaction(
        gid, mode, status, version, createdAt, updatedAt, deadline, checkUrl, next, branches,
        messages, flag);
  }

  public Transaction withFlag(String next) {
    return new Transaction(
        gid, mode, status, version, createdAt, updatedAt, deadline, checkUrl, check, branches,
        messages, next);
  }

  public Transaction withBranches(List<Branch> next) {
    return new Transaction(
        gid, mode, status, version, createdAt, updatedAt, deadline, checkUrl, check, next, messages,
        flag);
  }

  public Transaction withMessages(List<Message> next) {
    return new Transaction(
        gid, mode, status, version, createdAt, updatedAt, deadline, checkUrl, check, branches, next,
        flag);
  }

  /**
   * The same state at {@code next}: the runtime folds several decisions on one transaction into one
   * write, which must be exactly one version past the stored one.
   */
  public Transaction withVersion(long next) {
    return new Transaction(
        gid, mode, status, next, createdAt, updatedAt, deadline, checkUrl, check, branches,
        messages, flag);
  }

  /** The same state as the next logged version, changed at {@code now}. */
  public Transaction nextVersion(Instant now) {
    return new Transaction(
        gid,
        mode,
        status,
        version + 1,
        createdAt,
        now,
        deadline,
        checkUrl,
        check,
        branches,
        messages,
        flag);
  }

  public Transaction withBranch(String branchId, UnaryOperator<Branch> change) {
    List<Branch> next = new ArrayList<>(branches.size());
    boolean found = false;
    for (Branch branch : branches) {
      if (branch.branchId().equals(branchId)) {
        next.add(change.apply(branch));
        found = true;
      } else {
        next.add(branch);
      }
    }
    if (!found) {
      throw new IllegalStateException("transaction " + gid + " has no branch " + branchId);
    }
    return withBranches(next);
  }

  public Transaction withMessage(String messageId, UnaryOperator<Message> change) {
    List<Message> next = new ArrayList<>(messages.size());
    boolean found = false;
    for (Message message : messages) {
      if (message.messageId().equals(messageId)) {
        next.add(change.apply(message));
        found = true;
      } else {
        next.add(message);
      }
    }
    if (!found) {
      throw new IllegalStateException("transaction " + gid + " has no message " + messageId);
    }
    return withMessages(next);
  }
}
