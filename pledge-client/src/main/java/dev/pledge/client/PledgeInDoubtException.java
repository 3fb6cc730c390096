package dev.pledge.client;

/**
 * The transaction was accepted, but its outcome is not known yet: the wait for it ended before it
 * became final, or a participant's {@code try} gave no definite answer. The coordinator goes on
 * driving it to an outcome; read it later with {@link PledgeClient#get} or {@link
 * PledgeClient#await}.
 */
public final class PledgeInDoubtException extends PledgeException {
  private static final long serialVersionUID = 1L;

  private final String lastStatus;

  PledgeInDoubtException(String gid, String lastStatus, String message, Throwable cause) {
    super(gid, message, cause);
    this.lastStatus = lastStatus;
  }

  /** The transaction's status when the client gave up waiting, or null if unknown. */
  public String lastStatus() {
    return lastStatus;
  }

  @Override
  public boolean outcomeKnown() {
    return false;
  }
}
