package dev.pledge.eventstore;

/**
 * The version an append expects its stream to be at: a number (the stream's last event has exactly
 * that version), {@link Any} (no check), or {@link NoStream} (the stream has no event yet).
 */
public sealed interface ExpectedVersion {
  /** No check: the events go after whatever the stream holds. */
  record Any() implements ExpectedVersion {
    @Override
    public String toString() {
      return "any";
    }
  }

  /** The stream must not exist yet (version 0). */
  record NoStream() implements ExpectedVersion {
    @Override
    public String toString() {
      return "no stream";
    }
  }

  /** The stream's last event must have exactly this version (1 or more). */
  record Exactly(long version) implements ExpectedVersion {
    public Exactly {
      if (version < 1) {
        throw new IllegalArgumentException(
            "expected version must be >= 1 (use noStream() for an empty stream), got " + version);
      }
    }

    @Override
    public String toString() {
      return Long.toString(version);
    }
  }

  static ExpectedVersion any() {
    return new Any();
  }

  static ExpectedVersion noStream() {
    return new NoStream();
  }

  /**
   * {@code version} 0 means "no stream", so that a version read from an empty stream can be used.
   */
  static ExpectedVersion exactly(long version) {
    return version == 0 ? new NoStream() : new Exactly(version);
  }

  /** Whether a stream at {@code actual} (0 when it has no event) satisfies this expectation. */
  default boolean matches(long actual) {
    return switch (this) {
      case Any a -> true;
      case NoStream n -> actual == 0;
      case Exactly e -> actual == e.version();
    };
  }
}
