package dev.pledge.core.spi;

/**
 * A sink refused a message that can never be published as it is (larger than the broker accepts, a
 * target the broker refuses). Retrying does not help: the delivery goes to the dead letters.
 */
public class SinkRejectedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SinkRejectedException(String message) {
    super(message);
  }

  public SinkRejectedException(String message, Throwable cause) {
    super(message, cause);
  }
}
