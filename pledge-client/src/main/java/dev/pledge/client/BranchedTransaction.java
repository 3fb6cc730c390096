package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;

/**
 * What the saga, 2pc, xa and 3pc builders share: the gid and mode, the branches added so far, the
 * timeout, and how the transaction is sent to the coordinator and awaited.
 */
final class BranchedTransaction {
  private final PledgeClient client;
  private final String gid;
  private final String mode;
  private final String needsABranch;
  private final ArrayNode branches = Http.JSON.createArrayNode();
  private Duration timeout;

  /**
   * @param needsABranch the message of the {@link IllegalStateException} when it is submitted
   *     without a branch
   */
  BranchedTransaction(PledgeClient client, String gid, String mode, String needsABranch) {
    this.client = client;
    this.gid = gid;
    this.mode = mode;
    this.needsABranch = needsABranch;
  }

  /** The branches added so far, each a JSON object its builder fills. */
  ArrayNode branches() {
    return branches;
  }

  /** Whole seconds, 1 s to 24 h, checked by {@link PledgeClient#timeoutSeconds}. */
  void timeout(Duration timeout) {
    PledgeClient.timeoutSeconds(timeout);
    this.timeout = timeout;
  }

  /** Creates the transaction; it starts at once. Idempotent by gid and body. */
  Submitted submit() {
    return client.create(body());
  }

  /** The create request's body. */
  private ObjectNode body() {
    if (branches.isEmpty()) {
      throw new IllegalStateException(needsABranch);
    }
    ObjectNode body = Http.JSON.createObjectNode().put("gid", gid).put("mode", mode);
    if (timeout != null) {
      body.put("timeoutSeconds", timeout.toSeconds());
    }
    body.set("branches", branches.deepCopy());
    return body;
  }

  /**
   * Creates the transaction and waits for its outcome, in the same request where the wait fits in
   * one ({@link PledgeClient#createAndAwait}).
   */
  TransactionView run(Duration wait) {
    return client.createAndAwait(body(), wait);
  }
}
