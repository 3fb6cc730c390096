package dev.pledge.core.spi;

/**
 * The stored version was not the one the write expected: another writer won; nothing was written.
 */
public final class VersionConflictException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public VersionConflictException(String message) {
    super(message);
  }

  public VersionConflictException(String message, Throwable cause) {
    super(message, cause);
  }
}
