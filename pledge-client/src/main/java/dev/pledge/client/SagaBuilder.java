package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Objects;

/**
 * A saga being described: its steps, in order, each with the URL of its action and of its
 * compensation. Without {@link #after} the steps run one after another in the order given; with it
 * they form a DAG (a step runs once every step it is after succeeded). When a step fails (409) or
 * the timeout passes, every step that may have run is compensated, in reverse order.
 */
public final class SagaBuilder {
  private final PledgeClient client;
  private final String gid;
  private final ArrayNode branches = Http.JSON.createArrayNode();
  private Duration timeout;

  SagaBuilder(PledgeClient client, String gid) {
    this.client = client;
    this.gid = gid;
  }

  /** The saga aborts if it has not committed within this time (whole seconds, 1 s to 24 h). */
  public SagaBuilder timeout(Duration timeout) {
    PledgeClient.timeoutSeconds(timeout);
    this.timeout = timeout;
    return this;
  }

  /**
   * Adds a step.
   *
   * @param branchId {@code [A-Za-z0-9._:-]{1,64}}, unique in the saga
   * @param payload sent as the body of both ops: a String is JSON text, anything else goes through
   *     Jackson, null is {@code {}}
   */
  public SagaBuilder step(String branchId, String action, String compensate, Object payload) {
    Objects.requireNonNull(branchId, "branchId");
    branches
        .addObject()
        .put("branchId", branchId)
        .put("action", Objects.requireNonNull(action, "action"))
        .put("compensate", Objects.requireNonNull(compensate, "compensate"))
        .set("payload", Payloads.toJson("steps[" + (branches.size() - 1) + "].payload", payload));
    return this;
  }

  /** The last step added runs only after these steps succeeded (a DAG). */
  public SagaBuilder after(String... branchIds) {
    if (branches.isEmpty()) {
      throw new IllegalStateException("after(...) follows a step(...)");
    }
    ArrayNode after = ((ObjectNode) branches.get(branches.size() - 1)).putArray("after");
    for (String id : branchIds) {
      after.add(Objects.requireNonNull(id, "after"));
    }
    return this;
  }

  /**
   * Creates the saga; it starts running at once. Sending the same saga again (the same gid and
   * steps) answers the same and creates nothing.
   *
   * @throws PledgeRejectedException when the coordinator refused it (nothing was created)
   * @throws PledgeUnavailableException when no attempt got an answer (it may have been created)
   */
  public Submitted submit() {
    return client.create(body());
  }

  /** The create request's body. */
  private ObjectNode body() {
    if (branches.isEmpty()) {
      throw new IllegalStateException("a saga needs at least one step");
    }
    ObjectNode body = Http.JSON.createObjectNode().put("gid", gid).put("mode", "saga");
    if (timeout != null) {
      body.put("timeoutSeconds", timeout.toSeconds());
    }
    body.set("branches", branches.deepCopy());
    return body;
  }

  /**
   * Creates the saga and waits for its outcome.
   *
   * @return the final transaction: {@link TransactionView#committed()} or {@link
   *     TransactionView#aborted()}
   * @throws PledgeInDoubtException when it is not final after {@code wait}
   */
  public TransactionView run(Duration wait) {
    return client.createAndAwait(body(), wait);
  }
}
