package dev.pledge.broker.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import io.nats.client.Connection;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.ConsumerInfo;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** The consumer adapter on the real JetStream: ack after the handler, redelivery, dead letters. */
class NatsConsumerTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private String name;
  private NatsTarget target;
  private Connection admin;
  private MessageSink sink;
  private final List<NatsConsumer> consumers = new ArrayList<>();

  @BeforeEach
  void setUp(TestInfo info) {
    name =
        "c"
            + Integer.toHexString(info.getTestMethod().orElseThrow().getName().hashCode())
            + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    target =
        NatsTarget.parse(
            URI.create(
                "nats://" + NatsServer.HOST + ":" + NatsServer.PORT + "/" + name + ".orders"));
    admin = NatsServer.connect();
    sink = new NatsSinkProvider().open(target.toUri());
  }

  @AfterEach
  void tearDown() throws Exception {
    consumers.forEach(NatsConsumer::close);
    sink.close();
    admin.jetStreamManagement().deleteStream(name);
    admin.jetStreamManagement().deleteStream(name + "_dead");
    admin.close();
  }

  private NatsConsumerConfig config() {
    return NatsConsumerConfig.of(name, "shipping").withRetryDelay(Duration.ofMillis(20));
  }

  private NatsConsumer consume(
      NatsConsumerConfig config, java.util.function.Consumer<TransactionalMessage> handler) {
    NatsConsumer consumer = NatsConsumer.start(target, config, handler::accept);
    consumers.add(consumer);
    return consumer;
  }

  private static TransactionalMessage message(int i, String key) {
    return new TransactionalMessage(
        "m-" + i, "order.placed", key, "{\"i\":" + i + "}", Map.of("h", "v"), "g" + i);
  }

  private ConsumerInfo info() throws Exception {
    return admin.jetStreamManagement().getConsumerInfo(name, "shipping");
  }

  private List<Message> deadLetters(int expected) throws Exception {
    JetStreamSubscription reader =
        admin
            .jetStream()
            .subscribe(
                NatsConsumer.deadLetterSubject(target),
                PullSubscribeOptions.builder().stream(name + "_dead").build());
    List<Message> read = new ArrayList<>();
    await()
        .atMost(PATIENCE)
        .until(() -> {
          read.addAll(reader.fetch(10, Duration.ofMillis(300)));
          return read.size() >= expected;
        });
    reader.unsubscribe();
    return read;
  }

  @Test
  void handledMessages_inOrder_areAcknowledgedAfterTheHandler() throws Exception {
    List<TransactionalMessage> handled = Collections.synchronizedList(new ArrayList<>());
    // Stream and consumer first, so that the sink's subject is captured.
    consume(config(), handled::add);
    List<TransactionalMessage> sent =
        IntStream.range(0, 30).mapToObj(i -> message(i, "k")).toList();

    for (TransactionalMessage m : sent) {
      sink.publish(m).join();
    }

    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(handled).containsExactlyElementsOf(sent));
    await()
        .atMost(PATIENCE)
        .until(
            () -> info().getAckFloor().getStreamSequence() == 30 && info().getNumAckPending() == 0);
  }

  @Test
  void handlerFailure_isRedelivered_untilItSucceeds() throws Exception {
    ConcurrentHashMap<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    consume(
        config(),
        m -> {
          if (attempts.computeIfAbsent(m.id(), id -> new AtomicInteger()).incrementAndGet() < 3) {
            throw new IllegalStateException("database busy");
          }
          handled.add(m.id());
        });

    sink.publish(message(1, "k")).join();

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).containsExactly("m-1"));
    assertThat(attempts.get("m-1")).hasValue(3);
  }

  @Test
  void poisonMessage_isDeadLetteredAfterExactlyMaxDeliveries_andOthersFlow() throws Exception {
    AtomicInteger poisonDeliveries = new AtomicInteger();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    consume(
        config().withMaxDeliveries(4),
        m -> {
          if (m.id().equals("m-poison")) {
            poisonDeliveries.incrementAndGet();
            throw new IllegalArgumentException("cannot parse order");
          }
          handled.add(m.id());
        });

    sink.publish(new TransactionalMessage("m-poison", "order.placed", "k", "{}", null, "g")).join();
    sink.publish(message(2, "k")).join();

    Message dead = deadLetters(1).getFirst();
    assertThat(dead.getHeaders().getFirst("Nats-Msg-Id")).isEqualTo("m-poison");
    assertThat(dead.getHeaders().getFirst("pledge-deliveries")).isEqualTo("4");
    assertThat(dead.getHeaders().getFirst("pledge-dead-reason")).contains("cannot parse order");
    assertThat(new String(dead.getData(), StandardCharsets.UTF_8)).isEqualTo("{}");
    assertThat(poisonDeliveries).hasValue(4);
    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).contains("m-2"));
    await().atMost(PATIENCE).until(() -> info().getNumAckPending() == 0);
    assertThat(poisonDeliveries).as("never delivered again once dead").hasValue(4);
  }

  @Test
  void consumerClosedBeforeItsAck_messageIsRedeliveredAfterAckWait() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    NatsConsumer first =
        consume(
            config().withAckWait(Duration.ofSeconds(1)),
            m -> {
              inHandler.countDown();
              try {
                release.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              throw new IllegalStateException("the process died here");
            });
    sink.publish(message(1, "k")).join();
    assertThat(inHandler.await(60, TimeUnit.SECONDS)).isTrue();
    Thread closer = Thread.ofPlatform().start(first::close);

    List<TransactionalMessage> handled = Collections.synchronizedList(new ArrayList<>());
    consume(config().withAckWait(Duration.ofSeconds(1)), handled::add);
    release.countDown();
    closer.join(30_000);

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).contains(message(1, "k")));
  }
}
