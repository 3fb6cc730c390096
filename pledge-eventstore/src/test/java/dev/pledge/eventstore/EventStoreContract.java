package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pledge.eventstore.spi.EventPublisher;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The event store's contract, run by every database ({@code PostgresEventStoreTest}, {@code
 * MariadbEventStoreTest}, {@code SqliteEventStoreTest}). Tests share one database with other test
 * classes, so each names its own streams and never assumes the store is empty.
 */
public abstract class EventStoreContract {
  /**
   * Whether positions are 1, 2, 3, … with no gap (MariaDB, SQLite); PostgreSQL's carry the writer's
   * transaction id and leave gaps that never fill (docs/eventstore.md, "Positions").
   */
  protected boolean densePositions() {
    return true;
  }

  protected abstract EventStoreConfig database();

  private EventStore store;
  private String stream;

  @BeforeEach
  void open(TestInfo test) {
    store = EventStore.open(database());
    stream = test.getTestMethod().orElseThrow().getName() + "-" + UUID.randomUUID();
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void append_thenReadForwardAndBackward_fromAVersion() {
    AppendResult first =
        store.append(stream, ExpectedVersion.noStream(), List.of(deposited(1), deposited(2)));
    AppendResult second = store.append(stream, ExpectedVersion.exactly(2), List.of(deposited(3)));

    assertThat(first.nextExpectedVersion()).isEqualTo(2);
    assertThat(second.nextExpectedVersion()).isEqualTo(3);
    assertThat(second.firstPosition())
        .isEqualTo(first.lastPosition() + 1 + gapOfOthers(first, second));
    assertThat(store.readStream(stream, 1, 10))
        .extracting(RecordedEvent::version)
        .containsExactly(1L, 2L, 3L);
    assertThat(store.readStream(stream, 2, 10))
        .extracting(e -> TestEvents.CODEC.decode(e, TestEvents.Deposited.class).cents())
        .containsExactly(2L, 3L);
    assertThat(store.readStreamBackward(stream, 3, 2))
        .extracting(RecordedEvent::version)
        .containsExactly(3L, 2L);
    assertThat(store.readStream(stream, 1, 10).getFirst().metadata()).containsEntry("by", "test");
    assertThat(store.streamVersion(stream)).isEqualTo(3);
    assertThat(store.streamVersion(stream + "-none")).isZero();
  }

  /** Other test classes may append to the same database between two appends of this test. */
  private static long gapOfOthers(AppendResult first, AppendResult second) {
    return second.firstPosition() - first.lastPosition() - 1;
  }

  @Test
  void oneAppend_manyEvents_getConsecutiveVersionsAndPositions() {
    AppendResult result =
        store.append(
            stream,
            ExpectedVersion.any(),
            IntStream.range(0, 10).mapToObj(i -> deposited(i)).toList());

    assertThat(result.events())
        .extracting(RecordedEvent::version)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    long first = result.firstPosition();
    assertThat(result.events())
        .extracting(RecordedEvent::position)
        .containsExactlyElementsOf(IntStream.range(0, 10).mapToObj(i -> first + i).toList());
  }

  @Test
  void noStream_onAnExistingStream_isAConflictNamingBothVersions() {
    store.append(stream, ExpectedVersion.noStream(), List.of(deposited(1)));

    assertThatThrownBy(
            () -> store.append(stream, ExpectedVersion.noStream(), List.of(deposited(2))))
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class,
            e -> {
              assertThat(e.streamId()).isEqualTo(stream);
              assertThat(e.expected()).isEqualTo(ExpectedVersion.noStream());
              assertThat(e.actualVersion()).isEqualTo(1);
              assertThat(e.getMessage()).contains("expected version no stream", "at version 1");
            });
    assertThat(store.readStream(stream, 1, 10)).hasSize(1);
  }

  @Test
  void wrongExactVersion_isAConflict_andStoresNothing() {
    store.append(stream, ExpectedVersion.noStream(), List.of(deposited(1), deposited(2)));

    assertThatThrownBy(
            () -> store.append(stream, ExpectedVersion.exactly(1), List.of(deposited(3))))
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class,
            e -> {
              assertThat(e.expected()).isEqualTo(ExpectedVersion.exactly(1));
              assertThat(e.actualVersion()).isEqualTo(2);
            });
    assertThatThrownBy(
            () -> store.append(stream + "-new", ExpectedVersion.exactly(4), List.of(deposited(3))))
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class, e -> assertThat(e.actualVersion()).isZero());
    assertThat(store.streamVersion(stream)).isEqualTo(2);
  }

  @Test
  void racingAppends_withTheSameExpectedVersion_exactlyOneWins() throws Exception {
    store.append(stream, ExpectedVersion.noStream(), List.of(deposited(0)));
    int racers = 12;
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Object>> outcomes = new ArrayList<>();
      for (int i = 0; i < racers; i++) {
        long cents = i;
        outcomes.add(
            pool.submit(() -> {
              start.await();
              try {
                return store.append(stream, ExpectedVersion.exactly(1), List.of(deposited(cents)));
              } catch (WrongExpectedVersionException e) {
                return e;
              }
            }));
      }
      start.countDown();
      List<Object> results = new ArrayList<>();
      for (Future<Object> f : outcomes) {
        results.add(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(results).filteredOn(AppendResult.class::isInstance).hasSize(1);
      assertThat(results)
          .filteredOn(WrongExpectedVersionException.class::isInstance)
          .hasSize(racers - 1)
          .allSatisfy(e -> {
            WrongExpectedVersionException conflict = (WrongExpectedVersionException) e;
            assertThat(conflict.expected()).isEqualTo(ExpectedVersion.exactly(1));
            assertThat(conflict.actualVersion()).isEqualTo(2);
          });
      assertThat(store.readStream(stream, 1, 100))
          .extracting(RecordedEvent::version)
          .containsExactly(1L, 2L);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void racingAppends_fromTwoStores_exactlyOneWins() throws Exception {
    // Two stores are two pools and two group-commit writers, as two processes would be.
    try (EventStore other = EventStore.open(database())) {
      for (int round = 1; round <= 10; round++) {
        ExpectedVersion expected = ExpectedVersion.exactly(round - 1);
        CompletableFuture<AppendResult> a =
            store.appendAsync(stream, expected, List.of(deposited(round)));
        CompletableFuture<AppendResult> b =
            other.appendAsync(stream, expected, List.of(deposited(-round)));
        List<Throwable> failures = new ArrayList<>();
        int wins = 0;
        for (CompletableFuture<AppendResult> f : List.of(a, b)) {
          try {
            f.get(60, TimeUnit.SECONDS);
            wins++;
          } catch (java.util.concurrent.ExecutionException e) {
            failures.add(e.getCause());
          }
        }
        assertThat(wins).as("round %d", round).isEqualTo(1);
        assertThat(failures)
            .singleElement()
            .isInstanceOfSatisfying(
                WrongExpectedVersionException.class,
                e ->
                    assertThat(e.actualVersion())
                        .isEqualTo(
                            expected.equals(ExpectedVersion.noStream())
                                ? 1
                                : ((ExpectedVersion.Exactly) expected).version() + 1));
      }
    }
    assertThat(store.readStream(stream, 1, 100))
        .extracting(RecordedEvent::version)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
  }

  @Test
  void positions_increase_acrossAppends_andReadAllReturnsThemInOrder() {
    List<AppendResult> results = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      results.add(
          store.append(stream + "-" + (i % 3), ExpectedVersion.any(), List.of(deposited(i))));
    }
    long from = results.getFirst().firstPosition() - 1;
    List<Long> appended = results.stream().map(AppendResult::firstPosition).toList();
    // On PostgreSQL a committed event is readable once every older transaction of the server has
    // ended (docs/eventstore.md, "Positions"): other work on the server may hold it back a little.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() ->
            store.readAll(from, 1000).stream()
                .map(RecordedEvent::position)
                .toList()
                .containsAll(appended));
    List<RecordedEvent> all = store.readAll(from, 1000);
    assertThat(all).isNotEmpty();
    for (int i = 0; i < all.size(); i++) {
      if (densePositions()) {
        assertThat(all.get(i).position()).isEqualTo(from + 1 + i);
      } else {
        assertThat(all.get(i).position()).isGreaterThan(i == 0 ? from : all.get(i - 1).position());
      }
    }
    assertThat(all)
        .extracting(RecordedEvent::position)
        .containsAll(results.stream().map(AppendResult::firstPosition).toList());
    assertThat(store.headPosition()).isGreaterThanOrEqualTo(results.getLast().lastPosition());
  }

  @Test
  void bounds_areEnforced_withMessagesNamingTheField() {
    EventStoreConfig small = database().withLimits(200, 3, 5);
    try (EventStore bounded = EventStore.open(small)) {
      EventData big = TestEvents.CODEC.encode(new TestEvents.Withdrawn("a", 1, "x".repeat(300)));
      assertThatThrownBy(() -> bounded.append(stream, ExpectedVersion.any(), List.of(big)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("maxEventBytes 200");
      assertThatThrownBy(() ->
              bounded.append(
                  stream,
                  ExpectedVersion.any(),
                  List.of(deposited(1), deposited(2), deposited(3), deposited(4))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("maxEventsPerAppend 3");
      assertThatThrownBy(() -> bounded.readAll(0, 6))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("maxCount must be in [1, 5]");
      assertThatThrownBy(() -> bounded.append(stream, ExpectedVersion.any(), List.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("has no events");
      assertThatThrownBy(
              () -> bounded.append("has space", ExpectedVersion.any(), List.of(deposited(1))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("streamId");
      assertThatThrownBy(
              () -> bounded.append("x".repeat(201), ExpectedVersion.any(), List.of(deposited(1))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("streamId");
      assertThat(bounded.streamVersion(stream)).isZero();
    }
  }

  @Test
  void oldSchemaVersions_areUpcastOnRead() {
    EventData v1 = new EventData("withdrawn", 1, "{\"account\":\"a\",\"cents\":5}", Map.of());
    store.append(stream, ExpectedVersion.noStream(), List.of(v1));
    store.append(
        stream,
        ExpectedVersion.exactly(1),
        TestEvents.CODEC.encode(new TestEvents.Withdrawn("a", 7, "refund")));

    List<RecordedEvent> events = store.readStream(stream, 1, 10);
    assertThat(events).extracting(RecordedEvent::schemaVersion).containsExactly(1, 2);
    assertThat(events)
        .extracting(e -> TestEvents.CODEC.decode(e, TestEvents.Withdrawn.class))
        .containsExactly(
            new TestEvents.Withdrawn("a", 5, "unknown"),
            new TestEvents.Withdrawn("a", 7, "refund"));
  }

  @Test
  void appendIn_theCallersTransaction_isStoredOnlyIfItCommits() throws SQLException {
    try (Connection c = store.dataSource().getConnection()) {
      c.setAutoCommit(false);
      store.appendIn(c, stream, ExpectedVersion.noStream(), List.of(deposited(1)));
      c.rollback();
      assertThat(store.streamVersion(stream)).isZero();
      AppendResult stored =
          store.appendIn(c, stream, ExpectedVersion.noStream(), List.of(deposited(2)));
      assertThatThrownBy(
              () -> store.appendIn(c, stream, ExpectedVersion.noStream(), List.of(deposited(3))))
          .isInstanceOf(WrongExpectedVersionException.class);
      c.commit();
      assertThat(stored.nextExpectedVersion()).isEqualTo(1);
    }
    assertThat(store.readStream(stream, 1, 10))
        .extracting(e -> TestEvents.CODEC.decode(e, TestEvents.Deposited.class).cents())
        .containsExactly(2L);
  }

  @Test
  void publisher_runsInTheAppendsTransaction_andItsFailureStoresNothing() throws SQLException {
    String table = "es_test_published";
    try (Connection c = store.dataSource().getConnection()) {
      Dialect.execute(
          c,
          "CREATE TABLE IF NOT EXISTS "
              + table
              + " (stream_id VARCHAR(200) NOT NULL, stream_version BIGINT NOT NULL)");
    }
    EventPublisher publisher =
        (connection, events) -> {
          for (RecordedEvent e : events) {
            if (e.type().equals("withdrawn")) {
              throw new SQLException("the outbox refuses withdrawals");
            }
            try (PreparedStatement s =
                connection.prepareStatement("INSERT INTO " + table + " VALUES (?, ?)")) {
              s.setString(1, e.streamId());
              s.setLong(2, e.version());
              s.executeUpdate();
            }
          }
        };
    try (EventStore publishing = EventStore.open(database(), publisher, Clock.systemUTC())) {
      publishing.append(stream, ExpectedVersion.noStream(), List.of(deposited(1), deposited(2)));
      assertThatThrownBy(() ->
              publishing.append(
                  stream,
                  ExpectedVersion.exactly(2),
                  TestEvents.CODEC.encode(new TestEvents.Withdrawn("a", 1, "r"))))
          .isInstanceOf(EventStoreException.class)
          .hasMessageContaining("nothing of it was stored");
    }
    assertThat(store.streamVersion(stream)).isEqualTo(2);
    try (Connection c = store.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT stream_version FROM " + table + " WHERE stream_id = ? ORDER BY 1")) {
      s.setString(1, stream);
      List<Long> published = new ArrayList<>();
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          published.add(rows.getLong(1));
        }
      }
      assertThat(published).containsExactly(1L, 2L);
    }
  }

  @Test
  void appendsBeyondMaxPendingAppends_areRefusedAtOnce_andStoreNothing() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    EventPublisher blocking =
        (connection, events) -> {
          entered.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    EventStoreConfig c = database();
    EventStoreConfig twoPending =
        new EventStoreConfig(
            c.jdbcUrl(),
            c.user(),
            c.password(),
            c.poolSize(),
            c.maxEventBytes(),
            c.maxEventsPerAppend(),
            c.maxReadPageSize(),
            c.maxAppendsPerCommit(),
            2,
            c.appendTimeout(),
            c.pollInterval(),
            c.writerConnections());
    try (EventStore small = EventStore.open(twoPending, blocking, Clock.systemUTC())) {
      List<CompletableFuture<AppendResult>> accepted = new ArrayList<>();
      try {
        // The writer takes the first and is held in the publisher; two more wait in its queue.
        accepted.add(small.appendAsync(stream, ExpectedVersion.any(), List.of(deposited(1))));
        assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        accepted.add(small.appendAsync(stream, ExpectedVersion.any(), List.of(deposited(2))));
        accepted.add(small.appendAsync(stream, ExpectedVersion.any(), List.of(deposited(3))));
        CompletableFuture<AppendResult> refused =
            small.appendAsync(stream, ExpectedVersion.any(), List.of(deposited(4)));
        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::join).hasMessageContaining("maxPendingAppends");
      } finally {
        release.countDown();
      }
      for (CompletableFuture<AppendResult> f : accepted) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
    assertThat(store.readStream(stream, 1, 10))
        .extracting(e -> TestEvents.CODEC.decode(e, TestEvents.Deposited.class).cents())
        .containsExactly(1L, 2L, 3L);
  }

  @Test
  void subscription_catchesUp_thenFollowsLive_inOrder() {
    AppendResult before = store.append(stream, ExpectedVersion.noStream(), List.of(deposited(1)));
    List<RecordedEvent> seen = Collections.synchronizedList(new ArrayList<>());
    try (Subscription subscription =
        store.subscribe("test", before.firstPosition() - 1, seen::add)) {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> seen.stream().anyMatch(e -> e.streamId().equals(stream)));
      store.append(stream, ExpectedVersion.exactly(1), List.of(deposited(2), deposited(3)));
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> seen.stream().filter(e -> e.streamId().equals(stream)).count() == 3);
      List<Long> positions = new ArrayList<>(seen.stream().map(RecordedEvent::position).toList());
      assertThat(positions).isSorted().doesNotHaveDuplicates();
      for (int i = 1; i < positions.size() && densePositions(); i++) {
        assertThat(positions.get(i)).isEqualTo(positions.get(i - 1) + 1);
      }
      assertThat(subscription.position()).isGreaterThanOrEqualTo(positions.getLast());
    }
  }

  @Test
  void subscription_whoseHandlerThrows_isOfferedTheSameEventAgain_andSkipsNothing() {
    AppendResult first =
        store.append(
            stream, ExpectedVersion.noStream(), List.of(deposited(1), deposited(2), deposited(3)));
    List<Long> offered = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger failures = new AtomicInteger();
    try (Subscription subscription =
        store.subscribe(
            "throws",
            first.firstPosition() - 1,
            e -> {
              if (!e.streamId().equals(stream)) {
                return;
              }
              offered.add(e.version());
              if (e.version() == 2 && failures.getAndIncrement() < 2) {
                throw new IllegalStateException("handler fails on version 2, attempt " + failures);
              }
            })) {
      await().atMost(Duration.ofSeconds(20)).until(() -> offered.contains(3L));
      assertThat(offered).containsExactly(1L, 2L, 2L, 2L, 3L);
      assertThat(subscription.position()).isGreaterThanOrEqualTo(first.firstPosition() + 2);
    }
  }

  private static EventData deposited(long cents) {
    return TestEvents.deposited(cents);
  }
}
