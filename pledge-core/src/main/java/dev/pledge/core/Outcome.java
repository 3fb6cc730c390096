package dev.pledge.core;

import java.util.Objects;

/**
 * How one op ended, as the participant said it (or as the transport saw it). {@code Unknown} is
 * never taken as {@code Failed}: the op may have run, so it is asked again.
 */
public sealed interface Outcome {
  Succeeded SUCCEEDED = new Succeeded();
  Pending PENDING = new Pending();

  /** The op took effect (HTTP 2xx; for check-back, "committed"). */
  record Succeeded() implements Outcome {}

  /** A definitive business "no" (HTTP 409; for check-back, "rolled_back"). */
  record Failed(String reason) implements Outcome {
    public Failed {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** Not decided yet, ask again later (HTTP 425; for check-back, "pending"). */
  record Pending() implements Outcome {}

  /**
   * No usable answer: timeout, transport error, 5xx, a malformed reply. The op may or may not have
   * run.
   */
  record Unknown(String reason) implements Outcome {
    public Unknown {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
