package dev.pledge.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A begun tcc transaction. For each branch, {@link #branch} registers it with the coordinator
 * first, then calls its {@code try} (so a crash after the try still gets it cancelled); {@link
 * #commit} confirms them all. Closing it without a decision aborts it, which cancels every
 * registered branch: use it in try-with-resources, and any exception out of the block aborts.
 *
 * <pre>{@code
 * try (TccTransaction tcc = pledge.tcc(gid).timeout(Duration.ofSeconds(30)).begin()) {
 *   tcc.branch("payment", pay + "/try", pay + "/confirm", pay + "/cancel", Map.of("cents", 1999));
 *   tcc.branch("stock", stock + "/try", stock + "/confirm", stock + "/cancel", Map.of("sku", "A"));
 *   tcc.commit();
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one initiator drives it.
 */
public final class TccTransaction implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TccTransaction.class);

  private final PledgeClient client;
  private final String gid;
  private String decided;

  TccTransaction(PledgeClient client, String gid) {
    this.client = client;
    this.gid = gid;
  }

  public String gid() {
    return gid;
  }

  /**
   * Registers a branch and calls its {@code try} with the protocol's headers ({@code Pledge-Gid},
   * {@code Pledge-Branch}, {@code Pledge-Op: try}, {@code Pledge-Mode: tcc}, {@code
   * Pledge-Attempt}), retrying an unknown answer within the client's attempts.
   *
   * @return the try's answer body (JSON; a missing node when empty)
   * @throws BranchRefusedException when the try answered 409: abort (closing does)
   * @throws PledgeInDoubtException when the try never answered definitely: abort (closing does),
   *     and the branch's cancel undoes whatever it may have done
   */
  public JsonNode branch(
      String branchId, String tryUrl, String confirmUrl, String cancelUrl, Object payload) {
    if (decided != null) {
      throw new IllegalStateException("tcc " + gid + " is already " + decided);
    }
    Objects.requireNonNull(branchId, "branchId");
    JsonNode json = Payloads.toJson("payload", payload);
    ObjectNode body =
        Http.JSON
            .createObjectNode()
            .put("branchId", branchId)
            .put("try", Objects.requireNonNull(tryUrl, "tryUrl"))
            .put("confirm", Objects.requireNonNull(confirmUrl, "confirmUrl"))
            .put("cancel", Objects.requireNonNull(cancelUrl, "cancelUrl"));
    body.set("payload", json);
    client
        .http()
        .coordinator(gid, "POST", "/api/v1/transactions/" + gid + "/branches", body, Duration.ZERO);
    Http.Answer answer;
    try {
      answer =
          client
              .http()
              .call(
                  gid,
                  "POST try of branch " + branchId,
                  URI.create(tryUrl),
                  json,
                  attempt ->
                      Map.of(
                          "Pledge-Gid",
                          gid,
                          "Pledge-Branch",
                          branchId,
                          "Pledge-Op",
                          "try",
                          "Pledge-Mode",
                          "tcc",
                          "Pledge-Attempt",
                          Integer.toString(attempt)),
                  Duration.ZERO);
    } catch (PledgeUnavailableException e) {
      throw new PledgeInDoubtException(
          gid, "begun", "try of branch " + branchId + " of " + gid + ": " + e.getMessage(), e);
    }
    if (answer.status() == 409) {
      throw new BranchRefusedException(gid, branchId, Http.abbreviate(answer.text()));
    }
    if (answer.status() / 100 != 2) {
      throw new PledgeInDoubtException(
          gid,
          "begun",
          "try of branch "
              + branchId
              + " of "
              + gid
              + " answered "
              + answer.status()
              + ", which is neither success nor refusal",
          null);
    }
    return answer.body();
  }

  /** Confirms every branch: the decision is logged before this returns. */
  public Submitted commit() {
    Submitted submitted = client.commit(gid);
    decided = "committed";
    return submitted;
  }

  /** Cancels every registered branch. */
  public Submitted abort() {
    Submitted submitted = client.abort(gid);
    decided = "aborted";
    return submitted;
  }

  /**
   * Aborts the transaction if it was not decided. If the abort cannot reach the coordinator, the
   * transaction's timeout aborts it (presumed abort); that is logged, not thrown, so it does not
   * hide the exception that ended the block.
   */
  @Override
  public void close() {
    if (decided != null) {
      return;
    }
    try {
      abort();
    } catch (PledgeException e) {
      LOG.warn(
          "tcc gid={} closed undecided and the abort failed ({}); its timeout aborts it",
          gid,
          e.getMessage());
    }
  }
}
