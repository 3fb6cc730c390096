package dev.pledge.core.spi;

/**
 * A write was refused because a coordinator of a newer epoch holds a live lease on the transaction:
 * it has taken the work over, and this coordinator must leave it alone. Nothing was written. A
 * subtype of {@link LogUnavailableException} so that callers that only know to try again later do
 * the right thing.
 */
public final class LeaseHeldException extends LogUnavailableException {
  private static final long serialVersionUID = 1L;

  public LeaseHeldException(String message) {
    super(message);
  }
}
