package dev.pledge.client.participant;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pledge.client.barrier.BranchCall;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;

/**
 * One op call as its {@code Pledge-*} headers and body give it, checked.
 *
 * @param attempt {@code Pledge-Attempt}: 1 for the first call of the op, higher for retries
 * @param payload the branch's payload (the request body as JSON)
 */
public record ParticipantRequest(
    String gid, String branch, Op op, Mode mode, int attempt, JsonNode payload) {

  public BranchCall call() {
    return new BranchCall(gid, branch, op);
  }
}
