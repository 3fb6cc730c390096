package dev.pledge.client.participant;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pledge.client.barrier.BranchCall;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import java.util.regex.Pattern;

/**
 * One op call as its {@code Pledge-*} headers and body give it, checked.
 *
 * @param attempt {@code Pledge-Attempt}: 1 for the first call of the op, higher for retries
 * @param payload the branch's payload (the request body as JSON)
 * @param traceparent the W3C {@code traceparent} the coordinator sent when its traces are on, or
 *     null (absent or malformed): hand it to the service's tracer (OpenTelemetry's {@code
 *     W3CTraceContextPropagator}) to continue the coordinator's trace in the op's own spans
 */
public record ParticipantRequest(
    String gid,
    String branch,
    Op op,
    Mode mode,
    int attempt,
    JsonNode payload,
    String traceparent) {

  /** {@code version-traceid-spanid-flags}, lower-case hex, as W3C Trace Context writes it. */
  static final Pattern TRACEPARENT =
      Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

  public ParticipantRequest {
    if (traceparent != null && !TRACEPARENT.matcher(traceparent).matches()) {
      traceparent = null; // a malformed one is dropped, as W3C Trace Context says, not refused
    }
  }

  /** A call without trace context. */
  public ParticipantRequest(
      String gid, String branch, Op op, Mode mode, int attempt, JsonNode payload) {
    this(gid, branch, op, mode, attempt, payload, null);
  }

  public BranchCall call() {
    return new BranchCall(gid, branch, op);
  }
}
