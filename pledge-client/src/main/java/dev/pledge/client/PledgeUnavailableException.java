package dev.pledge.client;

/**
 * The coordinator could not be reached, or answered {@code 5xx}, on every attempt: the request may
 * or may not have been recorded. The outcome is in doubt. Retrying the same call (same gid, same
 * body) is safe: every call the client makes is idempotent.
 */
public final class PledgeUnavailableException extends PledgeException {
  private static final long serialVersionUID = 1L;

  private final int attempts;

  PledgeUnavailableException(String gid, String what, int attempts, Throwable cause) {
    super(gid, what + ": no definite answer after " + attempts + " attempt(s)", cause);
    this.attempts = attempts;
  }

  public int attempts() {
    return attempts;
  }

  @Override
  public boolean outcomeKnown() {
    return false;
  }
}
