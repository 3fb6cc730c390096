package dev.pledge.example.shop;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The faults a shop service injects into its own answers, drawn from a seeded random source. Every
 * draw is counted, so a report can say how many of each kind happened.
 */
public final class Faults {
  /** What one request suffers. */
  public enum Kind {
    /** Answered normally. */
    NONE("none"),
    /** A business "no" (409) on a forward op: out of stock, card declined. */
    REFUSE("business refusal (409)"),
    /** Answered only after the coordinator's call timeout has passed, then done. */
    SLOW("slow answer (past the call timeout)"),
    /** 503 before doing anything. */
    FAIL_BEFORE("5xx before the work"),
    /** The work is done and committed, then 500 is answered: the answer is lost. */
    FAIL_AFTER("5xx after the work (lost answer)");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /**
   * The probability of each fault per request, and how long a slow answer takes.
   *
   * @param refuse a business refusal of a forward op
   * @param slow an answer slower than {@code slowDelay}
   * @param failBefore a 5xx before the work
   * @param failAfter a 5xx after the work
   * @param slowDelay how long a slow answer waits: set it past the coordinator's call timeout
   */
  public record Rates(
      double refuse, double slow, double failBefore, double failAfter, Duration slowDelay) {
    public Rates {
      Objects.requireNonNull(slowDelay, "slowDelay");
      check("refuse", refuse);
      check("slow", slow);
      check("failBefore", failBefore);
      check("failAfter", failAfter);
      if (refuse + slow + failBefore + failAfter > 0.5) {
        throw new IllegalArgumentException(
            "fault rates must add up to at most 0.5, got "
                + (refuse + slow + failBefore + failAfter));
      }
      if (slowDelay.isNegative() || slowDelay.compareTo(Duration.ofMinutes(2)) > 0) {
        throw new IllegalArgumentException("slowDelay must be in [0, 2 min], got " + slowDelay);
      }
    }

    private static void check(String field, double rate) {
      if (!(rate >= 0 && rate <= 0.5)) {
        throw new IllegalArgumentException(
            "fault rate " + field + " must be in [0, 0.5], got " + rate);
      }
    }

    /** No faults at all. */
    public static Rates none() {
      return new Rates(0, 0, 0, 0, Duration.ZERO);
    }
  }

  private final Rates rates;
  private final Random random;
  private final Map<Kind, AtomicLong> counts = new EnumMap<>(Kind.class);
  private volatile boolean enabled = true;

  public Faults(Rates rates, long seed) {
    this.rates = Objects.requireNonNull(rates, "rates");
    this.random = new Random(seed);
    for (Kind kind : Kind.values()) {
      counts.put(kind, new AtomicLong());
    }
  }

  public static Faults none() {
    return new Faults(Rates.none(), 0);
  }

  public Rates rates() {
    return rates;
  }

  /** Stops injecting faults: from now on every request is answered normally. */
  public void disable() {
    enabled = false;
  }

  /** The fault for the next request; {@code forward} ops may be refused, others may not. */
  Kind draw(boolean forward) {
    Kind kind = Kind.NONE;
    if (enabled) {
      double x;
      synchronized (random) {
        x = random.nextDouble();
      }
      if ((x -= forward ? rates.refuse() : 0) < 0) {
        kind = Kind.REFUSE;
      } else if ((x -= rates.slow()) < 0) {
        kind = Kind.SLOW;
      } else if ((x -= rates.failBefore()) < 0) {
        kind = Kind.FAIL_BEFORE;
      } else if (x - rates.failAfter() < 0) {
        kind = Kind.FAIL_AFTER;
      }
    }
    counts.get(kind).incrementAndGet();
    return kind;
  }

  /** How many requests suffered each fault so far. */
  public Map<Kind, Long> counts() {
    Map<Kind, Long> out = new EnumMap<>(Kind.class);
    counts.forEach((kind, count) -> out.put(kind, count.get()));
    return out;
  }
}
