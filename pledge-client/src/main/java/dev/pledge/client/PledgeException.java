package dev.pledge.client;

/**
 * Something the client could not do. Every subclass says whether the transaction's outcome is known
 * ({@link #outcomeKnown()}): when it is not, the transaction may or may not have been recorded or
 * decided, and the caller must find out (read it with {@link PledgeClient#get}, or await it) before
 * acting as if it had failed.
 */
public abstract sealed class PledgeException extends RuntimeException
    permits PledgeRejectedException,
        PledgeUnavailableException,
        PledgeInDoubtException,
        BranchRefusedException {
  private static final long serialVersionUID = 1L;

  private final String gid;

  PledgeException(String gid, String message, Throwable cause) {
    super(message, cause);
    this.gid = gid;
  }

  /** The global transaction concerned, or null for a call about none. */
  public String gid() {
    return gid;
  }

  /** Whether what happened to the transaction is known; when false, it is in doubt. */
  public abstract boolean outcomeKnown();
}
