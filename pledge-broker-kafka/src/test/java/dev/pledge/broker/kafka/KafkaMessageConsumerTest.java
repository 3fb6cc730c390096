package dev.pledge.broker.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/** The consumer adapter on a real in-JVM Kafka: commit after the handler, retries, dead letters. */
class KafkaMessageConsumerTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private final EmbeddedKafka kafka = EmbeddedKafka.get();
  private KafkaTarget target;
  private String group;
  private MessageSink sink;
  private final List<KafkaMessageConsumer> consumers = new ArrayList<>();

  @BeforeEach
  void setUp(TestInfo info) {
    String name =
        "consumer-"
            + info.getTestMethod().orElseThrow().getName().toLowerCase(java.util.Locale.ROOT)
            + "-"
            + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    kafka.createTopic(name, 3);
    target = KafkaTarget.parse(URI.create("kafka://" + kafka.direct() + "/" + name));
    group = name + "-group";
    sink = new KafkaSinkProvider().open(target.toUri());
  }

  @AfterEach
  void tearDown() {
    consumers.forEach(KafkaMessageConsumer::close);
    sink.close();
  }

  private KafkaMessageConsumer consume(
      KafkaConsumerConfig config, java.util.function.Consumer<TransactionalMessage> handler) {
    KafkaMessageConsumer consumer = KafkaMessageConsumer.start(target, config, handler::accept);
    consumers.add(consumer);
    return consumer;
  }

  private KafkaConsumerConfig config() {
    return KafkaConsumerConfig.of(group).withRetryDelay(Duration.ofMillis(20));
  }

  private static TransactionalMessage message(int i, String key) {
    return new TransactionalMessage(
        "m-" + i, "order.placed", key, "{\"i\":" + i + "}", Map.of("h", "v"), "g" + i);
  }

  private long committed() throws Exception {
    try (Admin admin = kafka.admin()) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      return offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
    }
  }

  private List<ConsumerRecord<byte[], byte[]>> deadLetters(int expected) {
    Properties properties = new Properties();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.direct());
    properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    properties.put(ConsumerConfig.GROUP_ID_CONFIG, group + "-dead-reader");
    List<ConsumerRecord<byte[], byte[]>> read = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> reader =
        new KafkaConsumer<>(properties, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      reader.subscribe(List.of(KafkaMessageConsumer.deadLetterTopic(target)));
      await()
          .atMost(PATIENCE)
          .until(() -> {
            reader.poll(Duration.ofMillis(200)).forEach(read::add);
            return read.size() >= expected;
          });
    }
    return read;
  }

  @Test
  void handledRecords_inKeyOrder_areCommittedAfterTheHandler() throws Exception {
    List<TransactionalMessage> handled = Collections.synchronizedList(new ArrayList<>());
    consume(config(), handled::add);
    List<TransactionalMessage> sent =
        IntStream.range(0, 30).mapToObj(i -> message(i, "k" + (i % 3))).toList();

    for (TransactionalMessage m : sent) {
      sink.publish(m).join();
    }

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).containsAll(sent));
    for (String key : List.of("k0", "k1", "k2")) {
      assertThat(handled.stream().filter(m -> m.key().equals(key)).toList())
          .containsExactlyElementsOf(sent.stream().filter(m -> m.key().equals(key)).toList());
    }
    await().atMost(PATIENCE).until(() -> committed() == 30);
  }

  @Test
  void handlerFailure_isRetriedInPlace_untilItSucceeds() throws Exception {
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
    sink.publish(message(2, "k")).join();

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).containsExactly("m-1", "m-2"));
    assertThat(attempts.get("m-1")).hasValue(3);
    await().atMost(PATIENCE).until(() -> committed() == 2);
  }

  @Test
  void poisonRecord_goesToTheDeadLetterTopicAfterExactlyMaxDeliveries() throws Exception {
    AtomicInteger poisonAttempts = new AtomicInteger();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    consume(
        config().withMaxDeliveries(4),
        m -> {
          if (m.id().equals("m-poison")) {
            poisonAttempts.incrementAndGet();
            throw new IllegalArgumentException("cannot parse order");
          }
          handled.add(m.id());
        });

    sink.publish(new TransactionalMessage("m-poison", "order.placed", "k", "{}", null, "g")).join();
    sink.publish(message(2, "k")).join();

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(handled).containsExactly("m-2"));
    assertThat(poisonAttempts).hasValue(4);
    ConsumerRecord<byte[], byte[]> dead = deadLetters(1).getFirst();
    assertThat(header(dead, "pledge-message-id")).isEqualTo("m-poison");
    assertThat(header(dead, "pledge-deliveries")).isEqualTo("4");
    assertThat(header(dead, "pledge-dead-reason")).contains("cannot parse order");
    assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("k");
    await().atMost(PATIENCE).until(() -> committed() == 2);
  }

  @Test
  void consumerDiesAfterTheEffect_beforeTheCommit_theRecordIsHandledAgain() throws Exception {
    List<String> effects = Collections.synchronizedList(new ArrayList<>());
    KafkaMessageConsumer first =
        consume(
            config(),
            m -> {
              effects.add(m.id());
              // The consumer's thread dies here, after the effect, as a process killed before its
              // commit would: nothing catches an Error.
              throw new AssertionError("simulated crash after the effect");
            });
    sink.publish(message(1, "k")).join();
    await().dontCatchUncaughtExceptions().atMost(PATIENCE).until(() -> !first.isRunning());
    assertThat(committed()).isZero();

    consume(config(), m -> effects.add(m.id()));

    await().atMost(PATIENCE).untilAsserted(() -> assertThat(effects).containsExactly("m-1", "m-1"));
    await().atMost(PATIENCE).until(() -> committed() == 1);
  }

  private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }
}
