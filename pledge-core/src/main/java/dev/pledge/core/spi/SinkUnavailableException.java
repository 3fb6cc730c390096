package dev.pledge.core.spi;

/**
 * A sink could not confirm a publish: the broker is down, the connection was lost, no
 * acknowledgement came in time, or too many publishes are unacknowledged. Whether the message was
 * published is unknown; the caller publishes it again later.
 */
public class SinkUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SinkUnavailableException(String message) {
    super(message);
  }

  public SinkUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
