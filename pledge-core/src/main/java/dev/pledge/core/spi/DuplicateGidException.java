package dev.pledge.core.spi;

/** A transaction with this gid already exists; nothing was written. */
public final class DuplicateGidException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DuplicateGidException(String message) {
    super(message);
  }

  public DuplicateGidException(String message, Throwable cause) {
    super(message, cause);
  }
}
