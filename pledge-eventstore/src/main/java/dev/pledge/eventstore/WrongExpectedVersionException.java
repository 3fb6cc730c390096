package dev.pledge.eventstore;

/**
 * The conflict of optimistic concurrency: an append expected {@code expected} but the stream was at
 * {@code actualVersion} (0 when it has no event). Nothing of that append was stored. Load the
 * stream again, decide again, append again ({@link Retry#onConflict}).
 */
public final class WrongExpectedVersionException extends EventStoreException {
  private static final long serialVersionUID = 1L;

  private final String streamId;
  private final transient ExpectedVersion expected;
  private final long actualVersion;

  public WrongExpectedVersionException(String streamId, ExpectedVersion expected, long actual) {
    super(
        "stream '"
            + streamId
            + "': expected version "
            + expected
            + ", but the stream is at version "
            + actual);
    this.streamId = streamId;
    this.expected = expected;
    this.actualVersion = actual;
  }

  public String streamId() {
    return streamId;
  }

  public ExpectedVersion expected() {
    return expected;
  }

  public long actualVersion() {
    return actualVersion;
  }
}
