package dev.pledge.eventstore;

/**
 * An operating error of the event store: the database failed or could not be reached, an append's
 * outcome is unknown, a stored event cannot be decoded. Conflicts have their own subclass, {@link
 * WrongExpectedVersionException}. Bad arguments are {@link IllegalArgumentException}s.
 */
public class EventStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EventStoreException(String message) {
    super(message);
  }

  public EventStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
