package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.time.Duration;
import java.util.Objects;

/**
 * A two-phase commit being described ({@code 2pc}, or {@code xa} whose branches are database
 * prepared transactions): every branch's {@code prepare} is called in parallel; if all vote yes the
 * decision is logged and every {@code commit} is called, else every {@code rollback}.
 */
public final class TwoPhaseBuilder {
  private final BranchedTransaction tx;

  TwoPhaseBuilder(PledgeClient client, String gid, String mode) {
    this.tx =
        new BranchedTransaction(
            client, gid, mode, "a " + mode + " transaction needs at least one branch");
  }

  /** Aborts if every vote has not arrived within this time (whole seconds, 1 s to 24 h). */
  public TwoPhaseBuilder timeout(Duration timeout) {
    tx.timeout(timeout);
    return this;
  }

  /** Adds a branch; the payload as for {@link SagaBuilder#step}. */
  public TwoPhaseBuilder branch(
      String branchId, String prepare, String commit, String rollback, Object payload) {
    Objects.requireNonNull(branchId, "branchId");
    ArrayNode branches = tx.branches();
    branches
        .addObject()
        .put("branchId", branchId)
        .put("prepare", Objects.requireNonNull(prepare, "prepare"))
        .put("commit", Objects.requireNonNull(commit, "commit"))
        .put("rollback", Objects.requireNonNull(rollback, "rollback"))
        .set(
            "payload", Payloads.toJson("branches[" + (branches.size() - 1) + "].payload", payload));
    return this;
  }

  /** Creates the transaction; it starts at once. Idempotent by gid and body. */
  public Submitted submit() {
    return tx.submit();
  }

  /** Creates the transaction and waits for its outcome, as {@link SagaBuilder#run}. */
  public TransactionView run(Duration wait) {
    return tx.run(wait);
  }
}
