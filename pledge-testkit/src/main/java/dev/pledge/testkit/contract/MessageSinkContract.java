package dev.pledge.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import dev.pledge.core.spi.SinkUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The contract of {@link MessageSink}, as its Javadoc states it, checked against a real broker (or
 * the coordinator) through a real consumer. An implementation's test extends this class and says,
 * in a {@link Fixture}, how to make a fresh destination, open sinks to it, read what a consumer of
 * it receives, and break the network between the two:
 *
 * <pre>{@code
 * class RabbitMqSinkTest extends MessageSinkContract {
 *   @Override
 *   protected Fixture newFixture(String name) {
 *     return new RabbitFixture(name); // an exchange and a bound queue named after the test
 *   }
 * }
 * }</pre>
 *
 * <p>What the suite checks, as far as it can be observed from outside:
 *
 * <ul>
 *   <li>durable acknowledgement: every publish whose future completed normally reaches a consumer,
 *       with its id, topic, key, payload, headers and gid intact, also when it was in flight when
 *       the connection was cut;
 *   <li>order per key: messages of one key published one after another, each after the previous
 *       one's acknowledgement, are consumed in that order, while other keys interleave;
 *   <li>bounded in flight: past the sink's bound a publish fails at once with {@link
 *       SinkUnavailableException} instead of queueing;
 *   <li>unknown outcome: with the broker unreachable, a publish fails with {@link
 *       SinkUnavailableException} (never hangs, never succeeds); once it is back, the same sink
 *       publishes again without being reopened;
 *   <li>rejection: a payload over the sink's bound fails with {@link SinkRejectedException}, one at
 *       the bound is published;
 *   <li>close: after {@code close} returns every future is complete, even with the broker stalled,
 *       and later publishes fail with {@link SinkUnavailableException}; close is idempotent.
 * </ul>
 *
 * <p>What it cannot check: that an acknowledged message survives a crash of the broker (that is the
 * broker's durability setting, which each implementation's own tests check by restarting it).
 */
public abstract class MessageSinkContract {
  /** Every wait of the suite is bounded by this; generous, for a loaded machine. */
  protected static final Duration PATIENCE = Duration.ofSeconds(60);

  /** The in-flight bound of the sinks opened by tests that do not test the bound. */
  private static final int ROOMY = 256;

  /**
   * One test's destination on the system under test, fresh and named after the test, with a real
   * consumer attached before anything is published.
   */
  public interface Fixture extends AutoCloseable {
    /**
     * Opens a sink to this destination, connecting through a route that {@link #stall} and {@link
     * #cut} act on. Its acknowledgement timeout must be a few seconds (at most 10): tests wait for
     * a publish to fail while the broker is unreachable.
     *
     * @param maxInFlight the sink's bound on unacknowledged publishes
     */
    MessageSink openSink(int maxInFlight);

    /**
     * Every message a consumer of the destination has received so far, in the order received,
     * decoded from what the broker delivered (its id, headers and body), never from the sink's own
     * bookkeeping. Duplicates are kept.
     */
    List<TransactionalMessage> received();

    /** The largest payload, in bytes of UTF-8, that sinks opened here publish. */
    int maxPayloadBytes();

    /** Holds every byte between the sinks and the broker, connections staying open. */
    void stall();

    /** Lets the held bytes through. */
    void resume();

    /** Closes every connection of the sinks to the broker and refuses new ones, until restored. */
    void cut();

    /** Accepts connections again after {@link #cut}. */
    void restore();

    /** Closes the sinks opened here and removes the destination. */
    @Override
    void close();
  }

  /**
   * A fresh fixture. {@code name} is unique to this test and run and matches {@code [a-z0-9-]+};
   * use it to name the destination.
   */
  protected abstract Fixture newFixture(String name);

  protected Fixture fixture;
  private String testName;

  @BeforeEach
  final void freshFixture(TestInfo info) {
    String method = info.getTestMethod().map(m -> m.getName()).orElse("test");
    testName =
        ("sink-" + method + "-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36))
            .toLowerCase(java.util.Locale.ROOT)
            .replaceAll("[^a-z0-9-]", "-");
    fixture = newFixture(testName);
  }

  @AfterEach
  final void closeFixture() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void acknowledgedMessages_reachTheConsumerIntact() {
    MessageSink sink = fixture.openSink(ROOMY);
    List<TransactionalMessage> sent =
        List.of(
            message(1, "order-7", "{\"total\":12.5}", Map.of("trace", "abc"), "shop:gid-1"),
            message(2, null, "{}", Map.of(), null),
            message(3, "clé-ü", "{\"note\":\"ünïcødé ✓ 日本\"}", Map.of("x-h", "v é"), "g.2"),
            message(4, "order-7", "[1,2,3]", Map.of("a", "1", "b", "2"), "shop:gid-1"));

    List<CompletableFuture<Void>> acks = sent.stream().map(sink::publish).toList();

    assertThat(awaitOutcomes(acks)).containsOnly(Outcome.ACKNOWLEDGED);
    await().atMost(PATIENCE).untilAsserted(() -> assertThat(fixture.received()).containsAll(sent));
    assertThat(byId(fixture.received()).values()).containsExactlyInAnyOrderElementsOf(sent);
  }

  @Test
  void manyAcknowledgedMessages_allReachTheConsumer() {
    MessageSink sink = fixture.openSink(ROOMY);
    List<TransactionalMessage> sent =
        IntStream.range(0, 200)
            .mapToObj(i -> message(i, "k" + (i % 7), "{\"i\":" + i + "}", Map.of(), "g" + i))
            .toList();

    List<CompletableFuture<Void>> acks = sent.stream().map(sink::publish).toList();

    assertThat(awaitOutcomes(acks)).containsOnly(Outcome.ACKNOWLEDGED);
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(byId(fixture.received()).keySet()).containsAll(ids(sent)));
  }

  @Test
  void messagesOfOneKey_publishedAfterEachAcknowledgement_areConsumedInOrder() {
    MessageSink sink = fixture.openSink(ROOMY);
    int keys = 4;
    int perKey = 25;
    List<CompletableFuture<Void>> chains = new ArrayList<>();
    Map<String, List<String>> sentByKey = new LinkedHashMap<>();
    for (int k = 0; k < keys; k++) {
      String key = "key-" + k;
      List<TransactionalMessage> ofKey =
          IntStream.range(0, perKey)
              .mapToObj(i -> message(1000 * (k0(key) + 1) + i, key, "{\"i\":" + i + "}", null))
              .toList();
      sentByKey.put(key, ids(ofKey));
      CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
      for (TransactionalMessage m : ofKey) {
        chain = chain.thenCompose(ignored -> sink.publish(m));
      }
      chains.add(chain);
    }

    assertThat(awaitOutcomes(chains)).containsOnly(Outcome.ACKNOWLEDGED);
    await()
        .atMost(PATIENCE)
        .untilAsserted(() ->
            assertThat(byId(fixture.received()).keySet())
                .containsAll(sentByKey.values().stream().flatMap(List::stream).toList()));
    Map<String, List<String>> receivedByKey =
        fixture.received().stream()
            .collect(
                Collectors.groupingBy(
                    TransactionalMessage::orderingKey,
                    LinkedHashMap::new,
                    Collectors.mapping(TransactionalMessage::id, Collectors.toList())));
    for (Map.Entry<String, List<String>> key : sentByKey.entrySet()) {
      assertThat(withoutRepeats(receivedByKey.get(key.getKey())))
          .as("order of key %s", key.getKey())
          .containsExactlyElementsOf(key.getValue());
    }
  }

  @Test
  void publishPastTheInFlightBound_failsAtOnceAsUnavailable() {
    int bound = 4;
    MessageSink sink = fixture.openSink(bound);
    assertThat(awaitOutcomes(List.of(sink.publish(message(0, "warm-up", "{}", null)))))
        .containsOnly(Outcome.ACKNOWLEDGED);
    fixture.stall();
    List<TransactionalMessage> waiting =
        IntStream.rangeClosed(1, bound).mapToObj(i -> message(i, "k" + i, "{}", null)).toList();
    List<CompletableFuture<Void>> waitingAcks = waiting.stream().map(sink::publish).toList();

    CompletableFuture<Void> beyond = sink.publish(message(99, "k99", "{}", null));

    assertThat(awaitOutcomes(List.of(beyond))).containsOnly(Outcome.UNAVAILABLE);
    assertThat(waitingAcks).as("still waiting for the stalled broker").noneMatch(f -> f.isDone());
    fixture.resume();
    assertThat(awaitOutcomes(waitingAcks)).containsOnly(Outcome.ACKNOWLEDGED);
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> assertThat(byId(fixture.received()).keySet()).containsAll(ids(waiting)));
    assertThat(awaitOutcomes(List.of(sink.publish(message(100, "k100", "{}", null)))))
        .as("room again once acknowledged")
        .containsOnly(Outcome.ACKNOWLEDGED);
  }

  @Test
  void brokerUnreachable_publishFailsAsUnavailable_thenTheSameSinkRecovers() {
    MessageSink sink = fixture.openSink(ROOMY);
    assertThat(awaitOutcomes(List.of(sink.publish(message(0, "warm-up", "{}", null)))))
        .containsOnly(Outcome.ACKNOWLEDGED);
    fixture.cut();

    TransactionalMessage during = message(1, "k", "{\"during\":true}", null);
    assertThat(awaitOutcomes(List.of(sink.publish(during)))).containsOnly(Outcome.UNAVAILABLE);

    fixture.restore();
    TransactionalMessage after = message(2, "k", "{\"after\":true}", null);
    await()
        .atMost(PATIENCE)
        .untilAsserted(() ->
            assertThat(awaitOutcomes(List.of(sink.publish(during), sink.publish(after))))
                .containsOnly(Outcome.ACKNOWLEDGED));
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(fixture.received()).contains(during, after));
  }

  @Test
  void connectionCutWithPublishesInFlight_eachIsAcknowledgedAndReceived_orUnavailable() {
    MessageSink sink = fixture.openSink(ROOMY);
    assertThat(awaitOutcomes(List.of(sink.publish(message(0, "warm-up", "{}", null)))))
        .containsOnly(Outcome.ACKNOWLEDGED);
    fixture.stall();
    List<TransactionalMessage> inFlight =
        IntStream.rangeClosed(1, 10)
            .mapToObj(i -> message(i, "k" + (i % 3), "{\"i\":" + i + "}", null))
            .toList();
    List<CompletableFuture<Void>> acks = inFlight.stream().map(sink::publish).toList();

    fixture.cut();
    fixture.restore();
    List<Outcome> outcomes = awaitOutcomes(acks);

    assertThat(outcomes).doesNotContain(Outcome.REJECTED);
    List<TransactionalMessage> acknowledged =
        IntStream.range(0, inFlight.size())
            .filter(i -> outcomes.get(i) == Outcome.ACKNOWLEDGED)
            .mapToObj(inFlight::get)
            .toList();
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(fixture.received()).containsAll(acknowledged));
    // What was unknown is published again, as a caller does; then everything is there.
    List<TransactionalMessage> unknown =
        inFlight.stream().filter(m -> !acknowledged.contains(m)).toList();
    await()
        .atMost(PATIENCE)
        .untilAsserted(() ->
            assertThat(awaitOutcomes(unknown.stream().map(sink::publish).toList()))
                .allMatch(o -> o == Outcome.ACKNOWLEDGED));
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(fixture.received()).containsAll(inFlight));
  }

  @Test
  void payloadOverTheBound_isRejected_oneAtTheBoundIsPublished() {
    MessageSink sink = fixture.openSink(ROOMY);
    int bound = fixture.maxPayloadBytes();
    TransactionalMessage tooLarge = message(1, "k", jsonString(bound + 1), null);
    TransactionalMessage atBound = message(2, "k", jsonString(bound), null);

    assertThat(awaitOutcomes(List.of(sink.publish(tooLarge)))).containsOnly(Outcome.REJECTED);
    assertThat(awaitOutcomes(List.of(sink.publish(atBound)))).containsOnly(Outcome.ACKNOWLEDGED);
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(ids(fixture.received())).contains(atBound.id()));
    assertThat(ids(fixture.received())).doesNotContain(tooLarge.id());
  }

  @Test
  void sameMessageTwice_bothAcknowledged_consumedAtLeastOnce() {
    MessageSink sink = fixture.openSink(ROOMY);
    TransactionalMessage once = message(1, "k", "{}", "g");

    assertThat(awaitOutcomes(List.of(sink.publish(once)))).containsOnly(Outcome.ACKNOWLEDGED);
    assertThat(awaitOutcomes(List.of(sink.publish(once)))).containsOnly(Outcome.ACKNOWLEDGED);

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(fixture.received()).contains(once));
  }

  @Test
  void close_completesEveryFuture_andLaterPublishesFailAsUnavailable() {
    MessageSink sink = fixture.openSink(ROOMY);
    List<CompletableFuture<Void>> acks =
        IntStream.range(0, 50)
            .mapToObj(i -> sink.publish(message(i, "k" + (i % 5), "{}", null)))
            .toList();

    sink.close();

    assertThat(acks).allMatch(CompletableFuture::isDone);
    assertThat(outcomesNow(acks)).doesNotContain(Outcome.REJECTED);
    assertThat(awaitOutcomes(List.of(sink.publish(message(99, "k", "{}", null)))))
        .containsOnly(Outcome.UNAVAILABLE);
    sink.close();
  }

  @Test
  void close_withTheBrokerStalled_stillCompletesEveryFuture() {
    MessageSink sink = fixture.openSink(ROOMY);
    assertThat(awaitOutcomes(List.of(sink.publish(message(0, "warm-up", "{}", null)))))
        .containsOnly(Outcome.ACKNOWLEDGED);
    fixture.stall();
    List<CompletableFuture<Void>> acks =
        IntStream.rangeClosed(1, 3)
            .mapToObj(i -> sink.publish(message(i, "k", "{}", null)))
            .toList();

    sink.close();

    assertThat(acks).allMatch(CompletableFuture::isDone);
    assertThat(outcomesNow(acks)).containsOnly(Outcome.UNAVAILABLE);
    fixture.resume();
  }

  @Test
  void publish_neverThrows_evenOnAClosedSink() {
    MessageSink sink = fixture.openSink(ROOMY);
    sink.close();

    CompletableFuture<Void> ack = sink.publish(message(1, "k", "{}", null));

    assertThat(awaitOutcomes(List.of(ack))).containsOnly(Outcome.UNAVAILABLE);
  }

  // --- helpers

  /** How a publish ended. */
  protected enum Outcome {
    ACKNOWLEDGED,
    UNAVAILABLE,
    REJECTED
  }

  /**
   * Waits (bounded) for every future and classifies how it ended; any other failure than the two
   * the contract allows fails the test.
   */
  protected static List<Outcome> awaitOutcomes(List<CompletableFuture<Void>> acks) {
    CompletableFuture<Void> all =
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
            .exceptionally(ignored -> null);
    await().atMost(PATIENCE).until(all::isDone);
    return outcomesNow(acks);
  }

  private static List<Outcome> outcomesNow(List<CompletableFuture<Void>> acks) {
    return acks.stream().map(MessageSinkContract::outcome).toList();
  }

  private static Outcome outcome(CompletableFuture<Void> ack) {
    try {
      ack.join();
      return Outcome.ACKNOWLEDGED;
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof SinkUnavailableException) {
        return Outcome.UNAVAILABLE;
      }
      if (cause instanceof SinkRejectedException) {
        return Outcome.REJECTED;
      }
      throw new AssertionError("a publish failed with neither contract exception", cause);
    } catch (java.util.concurrent.CancellationException e) {
      throw new AssertionError("a publish's future was cancelled", e);
    }
  }

  /** A message of this test: its id names the test and {@code n}. */
  protected TransactionalMessage message(
      int n, String key, String payload, Map<String, String> headers, String gid) {
    return new TransactionalMessage(
        testName + ":" + n, "contract.topic", key, payload, headers, gid);
  }

  protected TransactionalMessage message(int n, String key, String payload, String gid) {
    return message(n, key, payload, Map.of(), gid);
  }

  private static int k0(String key) {
    return Integer.parseInt(key.substring(key.lastIndexOf('-') + 1));
  }

  /** A JSON string literal of exactly {@code bytes} bytes of UTF-8 (at least 2). */
  private static String jsonString(int bytes) {
    return "\"" + "x".repeat(bytes - 2) + "\"";
  }

  private static List<String> ids(List<TransactionalMessage> messages) {
    return messages.stream().map(TransactionalMessage::id).toList();
  }

  private static Map<String, TransactionalMessage> byId(List<TransactionalMessage> messages) {
    Map<String, TransactionalMessage> byId = new LinkedHashMap<>();
    messages.forEach(m -> byId.putIfAbsent(m.id(), m));
    return byId;
  }

  /**
   * Drops redelivered copies (a message received again later), keeping first arrivals: order per
   * key is about first arrivals, since a duplicate is allowed anywhere after the original.
   */
  private static List<String> withoutRepeats(List<String> ids) {
    if (ids == null) {
      return List.of();
    }
    Set<String> seen = new java.util.HashSet<>();
    return ids.stream().filter(seen::add).toList();
  }
}
