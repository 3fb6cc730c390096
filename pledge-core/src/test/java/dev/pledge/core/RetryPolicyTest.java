package dev.pledge.core;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

public class RetryPolicyTest {
  private static final RetryPolicy POLICY = RetryPolicy.DEFAULT;

  @Test
  public void backoff_isCappedAndJittered() {
    for (int failed = 1; failed <= 80; failed++) {
      long base = (long) Math.min(200 * Math.pow(2, failed - 1), 30_000);
      Duration wait = POLICY.backoff(failed, "g/b1/commit");
      // Jitter takes away up to 20 % of the wait, never adds to it: the cap holds.
      assertThat(wait.toMillis())
          .as("after %d attempts", failed)
          .isBetween(Math.round(base * 0.8), base);
    }
    assertThat(POLICY.backoff(Integer.MAX_VALUE, "g/b1/commit")).isLessThanOrEqualTo(ofSeconds(30));
  }

  @Test
  public void backoff_isPure_andSpreadsDifferentOps() {
    assertThat(POLICY.backoff(3, "g/b1/commit")).isEqualTo(POLICY.backoff(3, "g/b1/commit"));
    Set<Duration> waits = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      waits.add(POLICY.backoff(1, "g/b" + i + "/commit"));
    }
    assertThat(waits).hasSizeGreaterThan(20);
  }

  @Test
  public void backoff_withoutJitter_isExactlyExponential() {
    RetryPolicy exact = new RetryPolicy(ofMillis(100), ofSeconds(1), 3.0, 0.0, ofSeconds(5), 3);
    assertThat(exact.backoff(1, "k")).isEqualTo(ofMillis(100));
    assertThat(exact.backoff(2, "k")).isEqualTo(ofMillis(300));
    assertThat(exact.backoff(3, "k")).isEqualTo(ofMillis(900));
    assertThat(exact.backoff(4, "k")).isEqualTo(ofSeconds(1));
    assertThat(exact.longestWait()).isEqualTo(ofSeconds(5));
    assertThat(POLICY.longestWait()).isEqualTo(ofSeconds(30));
  }

  @Test
  public void backoff_needsAFailedAttempt() {
    assertThatThrownBy(() -> POLICY.backoff(0, "k"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("failedAttempts must be >= 1, got 0");
  }

  @Test
  public void policyValidation_namesTheFieldAndValue() {
    assertThatThrownBy(() -> new RetryPolicy(Duration.ZERO, ofSeconds(1), 2, 0.2, ofSeconds(1), 3))
        .hasMessage("retry policy initialBackoff must be > 0, got PT0S");
    assertThatThrownBy(() -> new RetryPolicy(ofSeconds(2), ofSeconds(1), 2, 0.2, ofSeconds(1), 3))
        .hasMessage("retry policy maxBackoff must be >= initialBackoff PT2S, got PT1S");
    assertThatThrownBy(() -> new RetryPolicy(ofSeconds(1), ofSeconds(1), 0.5, 0.2, ofSeconds(1), 3))
        .hasMessage("retry policy multiplier must be in [1, 10], got 0.5");
    assertThatThrownBy(() -> new RetryPolicy(ofSeconds(1), ofSeconds(1), 2, 1.0, ofSeconds(1), 3))
        .hasMessage("retry policy jitter must be in [0, 1), got 1.0");
    assertThatThrownBy(() -> new RetryPolicy(ofSeconds(1), ofSeconds(1), 2, 0.2, Duration.ZERO, 3))
        .hasMessage("retry policy callTimeout must be > 0, got PT0S");
    assertThatThrownBy(() -> new RetryPolicy(ofSeconds(1), ofSeconds(1), 2, 0.2, ofSeconds(1), 0))
        .hasMessage("retry policy flagAfterAttempts must be in [1, 1000000], got 0");
  }
}
