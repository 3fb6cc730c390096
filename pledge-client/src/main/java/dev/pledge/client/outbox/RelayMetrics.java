package dev.pledge.client.outbox;

import dev.pledge.core.TransactionalMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An {@link OutboxRelay}'s progress as Micrometer meters, a {@link RelayListener} (Micrometer is an
 * optional dependency of the SDK: only this class needs it). Every meter is tagged {@code
 * relay=<name>}:
 *
 * <ul>
 *   <li>{@code pledge.outbox.published} (counter): messages acknowledged by the sink and marked;
 *       its rate is the relay's messages per second;
 *   <li>{@code pledge.outbox.publish.failures} (counter, tag {@code kind=unavailable|rejected}):
 *       failed publishes; {@code rejected} needs an operator;
 *   <li>{@code pledge.outbox.commit.to.publish} (timer, p50 and p99): from the row's write to the
 *       sink's acknowledgement;
 *   <li>{@code pledge.outbox.cleaned} (counter): published rows deleted by cleanup;
 *   <li>after {@link #watch}: {@code pledge.outbox.backlog} (gauge, unpublished rows) and {@code
 *       pledge.outbox.lag} (time gauge, age of the oldest unpublished row), read from the table at
 *       most once per {@code refresh} however often they are scraped; NaN when the read fails.
 * </ul>
 *
 * <p>Without it the relay reports to {@link RelayListener#NONE}, which does nothing.
 */
public final class RelayMetrics implements RelayListener {
  private final MeterRegistry registry;
  private final Tags tags;
  private final Counter published;
  private final Counter unavailable;
  private final Counter rejected;
  private final Counter cleaned;
  private final Timer commitToPublish;
  private final Clock clock;

  private RelayMetrics(MeterRegistry registry, String relay, Clock clock) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.clock = clock;
    this.tags = Tags.of("relay", Objects.requireNonNull(relay, "relay"));
    published =
        Counter.builder("pledge.outbox.published")
            .description("messages acknowledged by the sink and marked published")
            .tags(tags)
            .register(registry);
    unavailable = failures("unavailable");
    rejected = failures("rejected");
    cleaned =
        Counter.builder("pledge.outbox.cleaned")
            .description("published rows deleted by cleanup")
            .tags(tags)
            .register(registry);
    commitToPublish =
        Timer.builder("pledge.outbox.commit.to.publish")
            .description("from the outbox row's write to the sink's acknowledgement")
            .publishPercentiles(0.5, 0.99)
            .tags(tags)
            .register(registry);
  }

  private Counter failures(String kind) {
    return Counter.builder("pledge.outbox.publish.failures")
        .description("failed publishes; rejected ones need an operator")
        .tags(tags)
        .tag("kind", kind)
        .register(registry);
  }

  /** The meters of the relay named {@code relay} in {@code registry}. */
  public static RelayMetrics create(MeterRegistry registry, String relay) {
    return new RelayMetrics(registry, relay, Clock.systemUTC());
  }

  /**
   * Adds the backlog gauges of {@code relay} ({@link OutboxRelay#backlog}), each read from the
   * database at most once per {@code refresh}.
   */
  public RelayMetrics watch(OutboxRelay relay, Duration refresh) {
    Sampler sampler = new Sampler(relay, refresh, clock);
    Gauge.builder("pledge.outbox.backlog", sampler, s -> s.sample().pending)
        .description("unpublished outbox rows")
        .tags(tags)
        .strongReference(true) // the sampler has no other reference: a weak one would be NaN
        .register(registry);
    TimeGauge.builder(
            "pledge.outbox.lag", sampler, TimeUnit.MICROSECONDS, s -> s.sample().ageMicros)
        .description("age of the oldest unpublished outbox row")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    return this;
  }

  @Override
  public void published(TransactionalMessage message, Duration writeToAck) {
    published.increment();
    commitToPublish.record(writeToAck);
  }

  @Override
  public void publishFailed(TransactionalMessage message, Throwable cause, boolean isRejected) {
    (isRejected ? rejected : unavailable).increment();
  }

  @Override
  public void cleanedUp(int rows) {
    cleaned.increment(rows);
  }

  /** The backlog, read at most once per refresh; NaN after a failed read. */
  private static final class Sampler {
    private final OutboxRelay relay;
    private final Duration refresh;
    private final Clock clock;
    private Instant readAt = Instant.MIN;
    private Sample last = new Sample(Double.NaN, Double.NaN);

    private record Sample(double pending, double ageMicros) {}

    Sampler(OutboxRelay relay, Duration refresh, Clock clock) {
      this.relay = Objects.requireNonNull(relay, "relay");
      this.refresh = Objects.requireNonNull(refresh, "refresh");
      this.clock = clock;
    }

    synchronized Sample sample() {
      Instant now = clock.instant();
      if (now.isBefore(readAt.plus(refresh))) {
        return last;
      }
      readAt = now;
      try {
        OutboxRelay.Backlog backlog = relay.backlog();
        last = new Sample(backlog.pending(), backlog.oldestAge().toNanos() / 1000.0);
      } catch (SQLException e) {
        last = new Sample(Double.NaN, Double.NaN);
      }
      return last;
    }
  }
}
