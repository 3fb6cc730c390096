package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Objects;

/**
 * A two-phase commit being described ({@code 2pc}, or {@code xa} whose branches are database
 * prepared transactions): every branch's {@code prepare} is called in parallel; if all vote yes the
 * decision is logged and every {@code commit} is called, else every {@code rollback}.
 */
public final class TwoPhaseBuilder {
  private final PledgeClient client;
  private final String gid;
  private final String mode;
  private final ArrayNode branches = Http.JSON.createArrayNode();
  private Duration timeout;

  TwoPhaseBuilder(PledgeClient client, String gid, String mode) {
    this.client = client;
    this.gid = gid;
    this.mode = mode;
  }

  /** Aborts if every vote has not arrived within this time (whole seconds, 1 s to 24 h). */
  public TwoPhaseBuilder timeout(Duration timeout) {
    PledgeClient.timeoutSeconds(timeout);
    this.timeout = timeout;
    return this;
  }

  /** Adds a branch; the payload as for {@link SagaBuilder#step}. */
  public TwoPhaseBuilder branch(
      String branchId, String prepare, String commit, String rollback, Object payload) {
    Objects.requireNonNull(branchId, "branchId");
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
    return client.create(body());
  }

  /** The create request's body. */
  private ObjectNode body() {
    if (branches.isEmpty()) {
      throw new IllegalStateException("a " + mode + " transaction needs at least one branch");
    }
    ObjectNode body = Http.JSON.createObjectNode().put("gid", gid).put("mode", mode);
    if (timeout != null) {
      body.put("timeoutSeconds", timeout.toSeconds());
    }
    body.set("branches", branches.deepCopy());
    return body;
  }

  /** Creates the transaction and waits for its outcome, as {@link SagaBuilder#run}. */
  public TransactionView run(Duration wait) {
    return client.createAndAwait(body(), wait);
  }
}
