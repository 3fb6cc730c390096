package dev.pledge.client.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.client.testing.TestDatabase;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import dev.pledge.testkit.InMemoryBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the outbox relay promises on every database: every committed row reaches the sink, in order
 * per key, is marked only after the acknowledgement, survives the sink being down, and a failing
 * row holds back only its own key.
 */
public abstract class OutboxRelayContract {
  protected static final Duration WAIT = Duration.ofSeconds(30);
  protected static final RelayConfig FAST =
      RelayConfig.defaults()
          .withIdleWait(Duration.ofMillis(20))
          .withRetryBackoff(Duration.ofMillis(20))
          .withAckTimeout(Duration.ofSeconds(5));

  protected abstract TestDatabase database();

  protected TestDatabase db;
  protected Outbox outbox;
  protected InMemoryBroker broker;

  @BeforeEach
  void cleanTable() {
    db = database();
    db.drop(Outbox.TABLE);
    outbox = Outbox.create(db.dataSource());
    broker = new InMemoryBroker();
  }

  protected MessageSink sink() {
    return broker.sink("out", 64, Duration.ofSeconds(2), 1 << 20);
  }

  /** Publishes {@code perKey} messages on each key, one transaction each; answers ids by key. */
  protected Map<String, List<String>> publish(List<String> keys, int perKey) throws SQLException {
    Map<String, List<String>> ids = new LinkedHashMap<>();
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < perKey; i++) {
        for (String key : keys) {
          ids.computeIfAbsent(key, k -> new ArrayList<>())
              .add(outbox.publish(c, "orders", key, "{\"n\":" + i + "}", Map.of("Trace", key)));
          c.commit();
        }
      }
    }
    return ids;
  }

  /** The ids received per key, first occurrences only (duplicates are the inbox's to drop). */
  protected Map<String, List<String>> receivedByKey() {
    Map<String, LinkedHashSet<String>> seen = new LinkedHashMap<>();
    for (TransactionalMessage m : broker.messages("out")) {
      seen.computeIfAbsent(m.orderingKey(), k -> new LinkedHashSet<>()).add(m.id());
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    seen.forEach((k, v) -> out.put(k, List.copyOf(v)));
    return out;
  }

  protected long unpublished() {
    return db.queryLong("SELECT COUNT(*) FROM pledge_outbox WHERE published_micros IS NULL");
  }

  protected int drain(OutboxRelay relay) throws SQLException {
    int total = 0;
    for (int round = 0; round < 100; round++) {
      int n = relay.runOnce();
      if (n == 0) {
        return total;
      }
      total += n;
    }
    return total;
  }

  @Test
  void everyCommittedRow_isPublishedInOrderPerKey_andMarkedPublished() throws SQLException {
    Map<String, List<String>> sent = publish(List.of("a", "b", "c"), 5);
    try (OutboxRelay relay =
        OutboxRelay.create(db.dataSource(), sink(), FAST.withBatchSize(4), RelayListener.NONE)) {
      assertThat(drain(relay)).isEqualTo(15);
    }
    assertThat(receivedByKey()).isEqualTo(sent);
    assertThat(unpublished()).isZero();
    TransactionalMessage first = broker.messages("out").getFirst();
    assertThat(first.topic()).isEqualTo("orders");
    assertThat(first.headers()).isEqualTo(Map.of("Trace", first.key()));
    assertThat(first.payload()).isEqualTo("{\"n\":0}");
  }

  @Test
  void aRolledBackRow_isNeverPublished() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      outbox.publish(c, "orders", "a", "{}", null);
      c.rollback();
    }
    try (OutboxRelay relay =
        OutboxRelay.create(db.dataSource(), sink(), FAST, RelayListener.NONE)) {
      assertThat(relay.runOnce()).isZero();
    }
    assertThat(broker.messages("out")).isEmpty();
  }

  @Test
  void withTheSinkDown_nothingIsMarked_andEverythingGoesOutOnceItIsBack() throws SQLException {
    Map<String, List<String>> sent = publish(List.of("a", "b"), 3);
    List<String> failures = new CopyOnWriteArrayList<>();
    RelayListener listener =
        new RelayListener() {
          @Override
          public void publishFailed(TransactionalMessage m, Throwable cause, boolean rejected) {
            failures.add(m.id() + (rejected ? " rejected" : " unavailable"));
          }
        };
    try (OutboxRelay relay = OutboxRelay.create(db.dataSource(), sink(), FAST, listener)) {
      broker.down();
      assertThat(relay.runOnce()).isZero();
      assertThat(unpublished()).isEqualTo(6);
      assertThat(failures)
          .containsExactlyInAnyOrder(
              sent.get("a").getFirst() + " unavailable", sent.get("b").getFirst() + " unavailable");
      assertThat(
              db.queryLong(
                  "SELECT COUNT(*) FROM pledge_outbox WHERE attempts = 1 AND last_error IS NOT NULL"))
          .isEqualTo(2);
      broker.up();
      assertThat(drain(relay)).isEqualTo(6);
    }
    assertThat(receivedByKey()).isEqualTo(sent);
  }

  @Test
  void aRejectedRow_holdsBackOnlyItsOwnKey_andIsReported() throws SQLException {
    MessageSink real = sink();
    MessageSink poisoned =
        new MessageSink() {
          @Override
          public CompletableFuture<Void> publish(TransactionalMessage message) {
            return message.payload().contains("poison")
                ? CompletableFuture.failedFuture(new SinkRejectedException("too large"))
                : real.publish(message);
          }

          @Override
          public void close() {
            real.close();
          }
        };
    List<String> rejected = new CopyOnWriteArrayList<>();
    String a1;
    String b1;
    try (Connection c = db.dataSource().getConnection()) {
      a1 = outbox.publish(c, "orders", "a", "{}", null);
      outbox.publish(c, "orders", "a", "{\"poison\":true}", null);
      outbox.publish(c, "orders", "a", "{\"after\":true}", null);
      b1 = outbox.publish(c, "orders", "b", "{}", null);
    }
    try (OutboxRelay relay =
        OutboxRelay.create(
            db.dataSource(),
            poisoned,
            FAST,
            new RelayListener() {
              @Override
              public void publishFailed(TransactionalMessage m, Throwable c, boolean isRejected) {
                rejected.add(m.payload() + " " + isRejected);
              }
            })) {
      relay.runOnce();
      relay.runOnce();
    }
    assertThat(broker.messages("out")).extracting(TransactionalMessage::id).containsExactly(a1, b1);
    assertThat(rejected).containsExactly("{\"poison\":true} true", "{\"poison\":true} true");
    assertThat(unpublished()).isEqualTo(2);
  }

  @Test
  void aStartedRelay_publishesWhatCommitsWhileItRuns() throws SQLException {
    try (OutboxRelay relay = OutboxRelay.start(db.dataSource(), sink(), FAST, RelayListener.NONE)) {
      Map<String, List<String>> sent = publish(List.of("a", "b", "c"), 10);
      await().atMost(WAIT).until(() -> unpublished() == 0);
      assertThat(receivedByKey()).isEqualTo(sent);
    }
  }

  @Test
  void cleanup_deletesPublishedRowsPastTheRetention_only() throws SQLException {
    publish(List.of("a"), 3);
    try (OutboxRelay relay =
        OutboxRelay.create(
            db.dataSource(), sink(), FAST.withRetention(Duration.ZERO), RelayListener.NONE)) {
      try (Connection c = db.dataSource().getConnection()) {
        outbox.publish(c, "orders", "z", "{}", null);
      }
      assertThat(relay.runOnce()).isEqualTo(4);
      try (Connection c = db.dataSource().getConnection()) {
        outbox.publish(c, "orders", "late", "{}", null);
      }
      assertThat(relay.cleanup()).isEqualTo(4);
      assertThat(db.queryLong("SELECT COUNT(*) FROM pledge_outbox")).isEqualTo(1);
      assertThat(relay.backlog().pending()).isEqualTo(1);
    }
  }

  @Test
  void metrics_countPublishesAndFailures_andGaugeTheBacklog() throws SQLException {
    publish(List.of("a", "b"), 3);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RelayMetrics metrics = RelayMetrics.create(registry, "orders");
    try (OutboxRelay relay = OutboxRelay.create(db.dataSource(), sink(), FAST, metrics)) {
      metrics.watch(relay, Duration.ZERO);
      assertThat(registry.get("pledge.outbox.backlog").tag("relay", "orders").gauge().value())
          .isEqualTo(6.0);
      assertThat(registry.get("pledge.outbox.lag").timeGauge().value(TimeUnit.MICROSECONDS))
          .isPositive();
      broker.down();
      relay.runOnce();
      assertThat(
              registry
                  .get("pledge.outbox.publish.failures")
                  .tag("kind", "unavailable")
                  .counter()
                  .count())
          .isEqualTo(2.0);
      assertThat(registry.get("pledge.outbox.published").counter().count()).isZero();
      broker.up();
      assertThat(drain(relay)).isEqualTo(6);
      assertThat(registry.get("pledge.outbox.published").counter().count()).isEqualTo(6.0);
      assertThat(registry.get("pledge.outbox.commit.to.publish").timer().count()).isEqualTo(6);
      assertThat(
              registry
                  .get("pledge.outbox.publish.failures")
                  .tag("kind", "rejected")
                  .counter()
                  .count())
          .isZero();
      System.gc(); // the gauges must hold their state strongly: a collected one reads NaN
      assertThat(registry.get("pledge.outbox.backlog").gauge().value()).isZero();
      assertThat(registry.get("pledge.outbox.lag").timeGauge().value(TimeUnit.MICROSECONDS))
          .isZero();
    }
  }
}
