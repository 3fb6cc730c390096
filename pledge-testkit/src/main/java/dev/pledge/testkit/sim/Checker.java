package dev.pledge.testkit.sim;

import dev.pledge.core.Branch;
import dev.pledge.core.Delivery;
import dev.pledge.core.Message;
import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.saga.SagaDecider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Holds the ground truth of a finished run against DESIGN.md's guarantees:
 *
 * <ol>
 *   <li>tcc, 2pc, xa, 3pc: every branch committed or every branch rolled back, matching the final
 *       status;
 *   <li>saga: every action ran, or every action that ran was compensated, in reverse order;
 *   <li>msg: a message is delivered iff its transaction committed, iff the producer's local
 *       transaction committed; each reaches each subscription at least once; same-key messages
 *       first reach each subscription in commit order, across transactions (a dead letter steps
 *       out);
 *   <li>a logged decision never changes (checked at every write by {@link SimHost});
 *   <li>once faults stop, every transaction is final within its timeout plus a bounded retry delay.
 * </ol>
 */
final class Checker {
  private final Simulator.Run run;
  private final List<String> violations;

  Checker(Simulator.Run run, List<String> violations) {
    this.run = run;
    this.violations = violations;
  }

  /** How long after faults stop (or after its deadline) a transaction may take to settle. */
  static long settleBoundMillis() {
    long retry =
        SimOptions.POLICY.maxBackoff().toMillis() + SimOptions.POLICY.callTimeout().toMillis();
    return SimHost.MAX_RESTART_MILLIS
        + SimHost.POLL_MILLIS
        + SimHost.CLAIM_LEASE_MILLIS
        + 3 * retry
        + 1_000;
  }

  void check() {
    Set<String> known = new HashSet<>();
    for (Transaction tx : run.coordinator.transactions()) {
      known.add(tx.gid().value());
      checkLiveness(tx);
      switch (tx.mode()) {
        case SAGA -> checkSaga(tx);
        case TCC, TWO_PC, XA, THREE_PC -> checkAtomic(tx);
        case MSG -> checkMessages(tx);
        case LRA -> checkLra(tx);
      }
    }
    for (TransactionSpec spec : run.specs) {
      if (!known.contains(spec.gid().value())) {
        if (run.producerBarrier.containsKey(spec.gid().value())
            && "committed".equals(run.producerBarrier.get(spec.gid().value()))) {
          violations.add(
              spec.gid()
                  + ": the producer committed locally for a transaction the coordinator never stored");
        }
      }
    }
    for (String gid : run.participants.gids()) {
      if (!known.contains(gid)) {
        violations.add(
            gid + ": a participant was called for a transaction the coordinator never stored");
      }
    }
    checkKeyOrderAcrossTransactions();
    for (Map.Entry<String, List<Effect.Deliver>> entry : run.received.entrySet()) {
      for (Effect.Deliver delivery : entry.getValue()) {
        Transaction tx = run.coordinator.log().load(delivery.gid()).orElse(null);
        if (tx == null || tx.status() != Status.COMMITTED) {
          violations.add(
              delivery.messageId()
                  + " reached "
                  + entry.getKey()
                  + " but its transaction is "
                  + (tx == null ? "unknown" : tx.status().label()));
        }
      }
    }
  }

  private void checkLiveness(Transaction tx) {
    Long settled = run.coordinator.settledAt().get(tx.gid());
    long deadlineMillis =
        tx.deadline().toEpochMilli()
            - SimHost.EPOCH.toEpochMilli()
            + SimHost.MAX_BACKWARD_JUMP_MILLIS;
    long bound = Math.max(run.world.faults().endMillis(), deadlineMillis) + settleBoundMillis();
    if (settled == null || !tx.isSettled()) {
      violations.add(
          tx.gid()
              + " never settled: "
              + tx.status().label()
              + (tx.hasPendingDeliveries() ? " with deliveries pending" : "")
              + " at "
              + run.world.now()
              + " ms");
    } else if (settled > bound) {
      violations.add(
          tx.gid() + " settled at " + settled + " ms, after its bound of " + bound + " ms");
    }
  }

  private void checkAtomic(Transaction tx) {
    List<String> committed = new ArrayList<>();
    List<String> notCommitted = new ArrayList<>();
    for (Branch branch : tx.branches()) {
      Participants.Truth truth = run.participants.find(tx.gid().value(), branch.branchId());
      if (truth != null) {
        truth.anomalies.forEach(a -> violations.add(tx.gid() + "/" + branch.branchId() + ": " + a));
      }
      if (truth != null && truth.committed()) {
        committed.add(branch.branchId());
      } else {
        notCommitted.add(branch.branchId());
        if (truth != null && truth.forwardApplied() && !truth.undone() && tx.isFinal()) {
          violations.add(
              tx.gid()
                  + "/"
                  + branch.branchId()
                  + ": left "
                  + (tx.mode() == Mode.TCC ? "tried" : "prepared")
                  + " but never "
                  + (tx.mode() == Mode.TCC ? "cancelled" : "rolled back"));
        }
      }
    }
    if (!committed.isEmpty() && !notCommitted.isEmpty()) {
      violations.add(
          tx.gid() + ": mixed outcome, committed " + committed + " but not " + notCommitted);
    }
    if (tx.status() == Status.COMMITTED && !notCommitted.isEmpty()) {
      violations.add(tx.gid() + ": committed, but branches " + notCommitted + " did not commit");
    }
    if (tx.status() == Status.ABORTED && !committed.isEmpty()) {
      violations.add(tx.gid() + ": aborted, but branches " + committed + " committed");
    }
  }

  /**
   * lra: closed means every participant completed and none compensated; cancelled means every
   * participant that worked was compensated, in reverse join order, and none completed; every
   * participant heard the end (after) only once its own complete or compensate was done.
   */
  private void checkLra(Transaction tx) {
    List<Participants.Truth> undone = new ArrayList<>();
    for (Branch branch : tx.branches()) {
      Participants.Truth truth = run.participants.find(tx.gid().value(), branch.branchId());
      String where = tx.gid() + "/" + branch.branchId() + ": ";
      if (truth != null) {
        truth.anomalies.forEach(a -> violations.add(where + a));
      }
      boolean completed = truth != null && truth.committed();
      boolean compensated = truth != null && truth.undone();
      boolean worked = truth != null && truth.forwardApplied();
      if (tx.status() == Status.COMMITTED && (!completed || compensated)) {
        violations.add(where + "closed, but the participant was not completed (or compensated)");
      }
      if (tx.status() == Status.ABORTED && (completed || (worked && !compensated))) {
        violations.add(where + "cancelled, but the participant was completed or not compensated");
      }
      if (tx.isFinal() && (truth == null || truth.afterAt < 0)) {
        violations.add(where + "the LRA ended but the participant never heard (after)");
      }
      if (compensated) {
        undone.add(truth);
      }
    }
    for (int i = 1; i < undone.size(); i++) {
      if (undone.get(i).undoAt > undone.get(i - 1).undoAt) {
        violations.add(
            tx.gid()
                + ": "
                + undone.get(i).branchId
                + " joined after "
                + undone.get(i - 1).branchId
                + " but was compensated after it: not reverse join order");
      }
    }
  }

  private void checkSaga(Transaction tx) {
    for (Branch branch : tx.branches()) {
      Participants.Truth truth = run.participants.find(tx.gid().value(), branch.branchId());
      boolean applied = truth != null && truth.forwardApplied();
      boolean compensated = truth != null && truth.undone();
      if (truth != null) {
        truth.anomalies.forEach(a -> violations.add(tx.gid() + "/" + branch.branchId() + ": " + a));
      }
      if (tx.status() == Status.COMMITTED && (!applied || compensated)) {
        violations.add(
            tx.gid()
                + "/"
                + branch.branchId()
                + ": saga committed but the action "
                + (applied ? "was compensated" : "did not run"));
      }
      if (tx.status() == Status.ABORTED && applied && !compensated) {
        violations.add(
            tx.gid()
                + "/"
                + branch.branchId()
                + ": saga aborted but the action that ran was never compensated");
      }
      if (compensated && truth.undoAt < truth.forwardAt) {
        violations.add(
            tx.gid()
                + "/"
                + branch.branchId()
                + ": compensated before its action ran, and the action still took effect");
      }
      if (tx.status() == Status.ABORTED && compensated) {
        for (String earlier : SagaDecider.dependencies(tx, branch)) {
          Participants.Truth before = run.participants.find(tx.gid().value(), earlier);
          if (before != null && before.undone() && before.undoAt < truth.undoAt) {
            violations.add(
                tx.gid()
                    + ": "
                    + earlier
                    + " was compensated before "
                    + branch.branchId()
                    + ", which ran after it: not reverse order");
          }
        }
      }
    }
  }

  private void checkMessages(Transaction tx) {
    String local = run.producerBarrier.get(tx.gid().value());
    boolean producerCommitted = "committed".equals(local);
    if (tx.isFinal() && (tx.status() == Status.COMMITTED) != producerCommitted) {
      violations.add(
          tx.gid()
              + ": transaction "
              + tx.status().label()
              + " but the producer's local transaction "
              + (producerCommitted ? "committed" : "did not commit"));
    }
    if (tx.status() != Status.COMMITTED) {
      return;
    }
    Map<String, List<String>> subscriptions = run.subscriptions;
    for (Message message : tx.messages()) {
      List<String> expected = subscriptions.getOrDefault(message.topic(), List.of());
      List<String> planned = message.deliveries().stream().map(Delivery::subscription).toList();
      if (!planned.equals(expected)) {
        violations.add(
            message.messageId()
                + ": planned deliveries "
                + planned
                + " but the topic's subscriptions are "
                + expected);
      }
      for (String subscription : expected) {
        if (firstReceipt(subscription, message.messageId()) < 0) {
          violations.add(
              message.messageId() + " of committed " + tx.gid() + " never reached " + subscription);
        }
      }
    }
    // Same key, same subscription: first receipts in the order the messages were prepared.
    for (String subscription :
        List.of(
            Simulator.SUBSCRIPTION_SHIPPING,
            Simulator.SUBSCRIPTION_AUDIT,
            Simulator.SUBSCRIPTION_ARCHIVE)) {
      for (int i = 0; i < tx.messages().size(); i++) {
        for (int j = i + 1; j < tx.messages().size(); j++) {
          Message a = tx.messages().get(i);
          Message b = tx.messages().get(j);
          if (a.key() == null
              || !a.key().equals(b.key())
              || a.delivery(subscription) == null
              || b.delivery(subscription) == null) {
            continue;
          }
          if (run.coordinator.everDead().contains(a.messageId() + "->" + subscription)) {
            continue; // a dead letter steps out of its key's sequence; re-driven, it comes later
          }
          int ra = firstReceipt(subscription, a.messageId());
          int rb = firstReceipt(subscription, b.messageId());
          if (rb >= 0 && (ra < 0 || rb < ra)) {
            violations.add(
                subscription
                    + " received "
                    + b.messageId()
                    + " before "
                    + a.messageId()
                    + " (same key "
                    + a.key()
                    + ")");
          }
        }
      }
    }
  }

  /**
   * Order per key across transactions: for each subscription and key, the messages of committed
   * transactions, in commit order (the order of the writes that made them committed, as the log
   * took them) and then the order prepared, first reach the subscription in that order; a message
   * that was ever dead steps out. Transactions whose committing write is past what the host kept
   * are left out.
   */
  private void checkKeyOrderAcrossTransactions() {
    Map<String, Integer> commitIndex = new HashMap<>();
    List<Transaction> written = run.coordinator.written();
    for (int i = 0; i < written.size(); i++) {
      Transaction tx = written.get(i);
      if (tx.mode() == Mode.MSG && tx.status() == Status.COMMITTED) {
        commitIndex.putIfAbsent(tx.gid().value(), i);
      }
    }
    // (subscription, key) -> message ids in commit order
    Map<String, List<String>> queues = new TreeMap<>();
    List<Transaction> committed = new ArrayList<>();
    for (Transaction tx : run.coordinator.transactions()) {
      if (tx.status() == Status.COMMITTED && commitIndex.containsKey(tx.gid().value())) {
        committed.add(tx);
      }
    }
    committed.sort(Comparator.comparing(tx -> commitIndex.get(tx.gid().value())));
    for (Transaction tx : committed) {
      for (Message message : tx.messages()) {
        if (message.key() == null) {
          continue;
        }
        for (Delivery delivery : message.deliveries()) {
          queues
              .computeIfAbsent(
                  delivery.subscription() + " " + message.key(), k -> new ArrayList<>())
              .add(message.messageId());
        }
      }
    }
    for (Map.Entry<String, List<String>> queue : queues.entrySet()) {
      String subscription = queue.getKey().substring(0, queue.getKey().indexOf(' '));
      List<String> ids = queue.getValue();
      for (int i = 0; i + 1 < ids.size(); i++) {
        String a = ids.get(i);
        String b = ids.get(i + 1);
        if (run.coordinator.everDead().contains(a + "->" + subscription)) {
          continue; // a dead letter steps out of its key's queue; re-driven, it joins the tail
        }
        int ra = firstReceipt(subscription, a);
        int rb = firstReceipt(subscription, b);
        if (rb >= 0 && (ra < 0 || rb < ra)) {
          violations.add(
              subscription
                  + " first received "
                  + b
                  + " before "
                  + a
                  + ", committed earlier with the same key ("
                  + queue.getKey()
                  + ")");
        }
      }
    }
  }

  private int firstReceipt(String subscription, String messageId) {
    List<Effect.Deliver> got = run.received.getOrDefault(subscription, List.of());
    for (int i = 0; i < got.size(); i++) {
      if (got.get(i).messageId().equals(messageId)) {
        return i;
      }
    }
    return -1;
  }
}
