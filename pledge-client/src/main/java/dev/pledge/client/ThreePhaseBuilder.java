package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Objects;

/**
 * A three-phase commit being described ({@code 3pc}, docs/protocols/3pc.md): every branch's {@code
 * can-commit} is called in parallel; if all vote yes the coordinator logs the pre-commit decision
 * and calls every {@code pre-commit}, then every {@code do-commit}; a no vote, the timeout before
 * the pre-commit decision, or a coordinator recovering before it: every {@code abort}.
 *
 * <p>The participant's side, with its own timers (a pre-committed branch that hears nothing commits
 * by itself, one that only voted yes aborts by itself), is {@link
 * dev.pledge.client.participant.ThreePcParticipant}. 3pc is unsafe under network partitions; 2pc
 * and xa are the default.
 */
public final class ThreePhaseBuilder {
  private final PledgeClient client;
  private final String gid;
  private final ArrayNode branches = Http.JSON.createArrayNode();
  private Duration timeout;

  ThreePhaseBuilder(PledgeClient client, String gid) {
    this.client = client;
    this.gid = gid;
  }

  /**
   * Before the pre-commit decision, aborts if every vote has not arrived within this time; after
   * it, commits (whole seconds, 1 s to 24 h). Choose the participants' abort timeout longer than
   * this plus the coordinator's longest downtime.
   */
  public ThreePhaseBuilder timeout(Duration timeout) {
    PledgeClient.timeoutSeconds(timeout);
    this.timeout = timeout;
    return this;
  }

  /** Adds a branch with its four op URLs; the payload as for {@link SagaBuilder#step}. */
  public ThreePhaseBuilder branch(
      String branchId,
      String canCommit,
      String preCommit,
      String doCommit,
      String abort,
      Object payload) {
    Objects.requireNonNull(branchId, "branchId");
    branches
        .addObject()
        .put("branchId", branchId)
        .put("can-commit", Objects.requireNonNull(canCommit, "canCommit"))
        .put("pre-commit", Objects.requireNonNull(preCommit, "preCommit"))
        .put("do-commit", Objects.requireNonNull(doCommit, "doCommit"))
        .put("abort", Objects.requireNonNull(abort, "abort"))
        .set(
            "payload", Payloads.toJson("branches[" + (branches.size() - 1) + "].payload", payload));
    return this;
  }

  /**
   * Adds a branch whose ops are {@code base + "/can-commit"}, {@code "/pre-commit"}, {@code
   * "/do-commit"} and {@code "/abort"}.
   */
  public ThreePhaseBuilder branch(String branchId, String base, Object payload) {
    Objects.requireNonNull(base, "base");
    return branch(
        branchId,
        base + "/can-commit",
        base + "/pre-commit",
        base + "/do-commit",
        base + "/abort",
        payload);
  }

  /** Creates the transaction; it starts at once. Idempotent by gid and body. */
  public Submitted submit() {
    return client.create(body());
  }

  /** The create request's body. */
  private ObjectNode body() {
    if (branches.isEmpty()) {
      throw new IllegalStateException("a 3pc transaction needs at least one branch");
    }
    ObjectNode body = Http.JSON.createObjectNode().put("gid", gid).put("mode", "3pc");
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
