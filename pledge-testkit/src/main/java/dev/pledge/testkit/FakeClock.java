package dev.pledge.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;

/**
 * A clock that moves only when told to: forward, or backward to model a clock jump. Not
 * thread-safe.
 */
public final class FakeClock implements InstantSource {
  private Instant now;

  public FakeClock(Instant start) {
    this.now = Objects.requireNonNull(start, "start");
  }

  @Override
  public Instant instant() {
    return now;
  }

  public void advance(Duration by) {
    now = now.plus(by);
  }

  public void set(Instant to) {
    now = Objects.requireNonNull(to, "to");
  }
}
