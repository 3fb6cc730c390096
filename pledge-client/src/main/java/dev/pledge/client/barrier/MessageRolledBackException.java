package dev.pledge.client.barrier;

/**
 * A producer's local transaction for a {@code msg} transaction found that a check-back had already
 * answered {@code rolled_back} for its gid (it ran too late, past the transaction's timeout). It
 * must not commit: the coordinator has dropped the messages. The barrier throws it before the
 * caller's work runs; the caller's transaction is to be rolled back.
 */
public final class MessageRolledBackException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MessageRolledBackException(String gid) {
    super(
        "msg transaction "
            + gid
            + " was already reported rolled back to a check-back: its local transaction must not"
            + " commit");
  }
}
