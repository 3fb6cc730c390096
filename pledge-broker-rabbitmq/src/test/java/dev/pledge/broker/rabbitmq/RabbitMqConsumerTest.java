package dev.pledge.broker.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.pledge.broker.rabbitmq.RabbitMqConsumerConfig.Acknowledgement;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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

/** The consumer adapter on the real broker: acknowledgement, redelivery, dead letters, prefetch. */
class RabbitMqConsumerTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private String exchange;
  private AmqpTarget target;
  private Connection admin;
  private Channel channel;
  private MessageSink sink;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void setUp(TestInfo info) throws IOException {
    exchange =
        "consumer-"
            + info.getTestMethod().orElseThrow().getName().toLowerCase(java.util.Locale.ROOT)
            + "-"
            + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    target =
        AmqpTarget.parse(RabbitMqBroker.target(RabbitMqBroker.HOST, RabbitMqBroker.PORT, exchange));
    admin = RabbitMqBroker.connect("consumer test admin");
    channel = admin.createChannel();
    sink = new RabbitMqSinkProvider().open(target.toUri());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    sink.close();
    channel.queueDelete(exchange + ".q");
    channel.queueDelete(exchange + ".q.dead");
    channel.exchangeDelete(exchange);
    channel.exchangeDelete(RabbitMqConsumer.deadLetterExchange(target));
    admin.abort();
  }

  private RabbitMqConsumer consume(
      RabbitMqConsumerConfig config, java.util.function.Consumer<TransactionalMessage> handler) {
    RabbitMqConsumer consumer = RabbitMqConsumer.start(target, config, handler::accept);
    closeables.add(consumer);
    return consumer;
  }

  private RabbitMqConsumerConfig config() {
    return RabbitMqConsumerConfig.of(exchange + ".q").withRedeliveryDelay(Duration.ofMillis(20));
  }

  private static TransactionalMessage message(int i, String key) {
    return new TransactionalMessage(
        "m-" + i, "order.placed", key, "{\"i\":" + i + "}", null, "g" + i);
  }

  private int ready(String queue) throws IOException {
    return channel.queueDeclarePassive(queue).getMessageCount();
  }

  @Test
  void handledMessages_areAcknowledged_inOrder_andLeaveTheQueue() throws IOException {
    List<TransactionalMessage> handled = Collections.synchronizedList(new ArrayList<>());
    consume(config(), handled::add);
    List<TransactionalMessage> sent =
        IntStream.range(0, 30).mapToObj(i -> message(i, "k")).toList();

    for (TransactionalMessage m : sent) {
      sink.publish(m).join();
    }

    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(handled).containsExactlyElementsOf(sent));
    closeables.forEach(c -> {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    closeables.clear();
    assertThat(ready(exchange + ".q"))
        .as("nothing handed back: every one was acknowledged")
        .isZero();
  }

  @Test
  void handlerFailure_redeliversUntilItSucceeds() {
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
  void poisonMessage_isDeadLetteredAfterExactlyMaxDeliveries_andOthersFlow() throws IOException {
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
    sink.publish(message(2, "k2")).join();

    String deadQueue = exchange + ".q.dead";
    await().atMost(PATIENCE).until(() -> ready(deadQueue) == 1);
    assertThat(poisonDeliveries).hasValue(4);
    GetResponse dead = channel.basicGet(deadQueue, true);
    AMQP.BasicProperties props = dead.getProps();
    assertThat(props.getMessageId()).isEqualTo("m-poison");
    assertThat(props.getHeaders()).containsKey("pledge-topic").containsKey("x-death");
    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).contains("m-2"));
    assertThat(poisonDeliveries).as("never delivered again once dead").hasValue(4);
  }

  @Test
  void undecodableMessage_isDeadLetteredAtOnce() throws IOException {
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    consume(config(), m -> handled.add(m.id()));

    channel.basicPublish(exchange, "order.placed", new AMQP.BasicProperties(), "{}".getBytes());

    await().atMost(PATIENCE).until(() -> ready(exchange + ".q.dead") == 1);
    assertThat(handled).isEmpty();
  }

  @Test
  void prefetch_boundsUnacknowledgedDeliveries() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    consume(
        config().withPrefetch(2),
        m -> {
          started.incrementAndGet();
          try {
            release.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });

    for (int i = 0; i < 10; i++) {
      sink.publish(message(i, "k")).join();
    }

    await().atMost(PATIENCE).until(() -> ready(exchange + ".q") == 8);
    assertThat(started).hasValue(1);
    release.countDown();
    await().atMost(PATIENCE).until(() -> started.get() == 10 && ready(exchange + ".q") == 0);
  }

  @Test
  void consumerClosedWhileHandling_beforeItsAck_messageIsRedeliveredToTheNextConsumer()
      throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    RabbitMqConsumer first =
        consume(
            config(),
            m -> {
              inHandler.countDown();
              try {
                never.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    sink.publish(message(1, "k")).join();
    assertThat(inHandler.await(60, TimeUnit.SECONDS)).isTrue();

    first.close();
    List<TransactionalMessage> handled = Collections.synchronizedList(new ArrayList<>());
    consume(config(), handled::add);

    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(handled).containsExactly(message(1, "k")));
    never.countDown();
  }

  @Test
  void autoAcknowledgement_isAtMostOnce_aFailedMessageIsNotRedelivered() throws IOException {
    AtomicInteger deliveries = new AtomicInteger();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    consume(
        config().withAcknowledgement(Acknowledgement.AUTO_AT_MOST_ONCE),
        m -> {
          deliveries.incrementAndGet();
          if (m.id().equals("m-1")) {
            throw new IllegalStateException("fails once");
          }
          handled.add(m.id());
        });

    sink.publish(message(1, "k")).join();
    sink.publish(message(2, "k")).join();

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).containsExactly("m-2"));
    assertThat(deliveries).as("m-1 was lost, not redelivered").hasValue(2);
    assertThat(ready(exchange + ".q")).isZero();
    assertThat(ready(exchange + ".q.dead")).isZero();
  }
}
