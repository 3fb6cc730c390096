package dev.pledge.broker.kafka;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.contract.MessageSinkContract;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** The Kafka sink against the contract, on a real in-JVM KRaft broker, through a proxy. */
class KafkaSinkContractTest extends MessageSinkContract {
  static final int MAX_PAYLOAD_BYTES = 256 * 1024;
  static final KafkaSinkConfig CONFIG =
      KafkaSinkConfig.DEFAULT
          .withAckTimeout(Duration.ofSeconds(6))
          .withMaxPayloadBytes(MAX_PAYLOAD_BYTES);

  @Override
  protected Fixture newFixture(String name) {
    return new KafkaFixture(name, CONFIG);
  }

  /**
   * A topic of 3 partitions named after the test, read from the beginning by a plain consumer of
   * the official client that decodes each record by docs/brokers.md alone.
   */
  static final class KafkaFixture implements Fixture {
    final EmbeddedKafka kafka = EmbeddedKafka.get();
    final String topic;
    final KafkaSinkConfig config;
    final List<TransactionalMessage> received = new ArrayList<>();
    final List<MessageSink> sinks = new ArrayList<>();
    final KafkaConsumer<byte[], byte[]> consumer;
    final Thread reader;
    volatile boolean running = true;

    KafkaFixture(String name, KafkaSinkConfig config) {
      this.topic = name;
      this.config = config;
      kafka.createTopic(topic, 3);
      Properties properties = new Properties();
      properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.direct());
      properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      consumer =
          new KafkaConsumer<>(properties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> partitions =
          List.of(
              new TopicPartition(topic, 0),
              new TopicPartition(topic, 1),
              new TopicPartition(topic, 2));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      reader = Thread.ofPlatform().daemon().name("contract-reader-" + name).start(this::read);
    }

    private void read() {
      try {
        while (running) {
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
            TransactionalMessage message = decode(record);
            synchronized (received) {
              received.add(message);
            }
          }
        }
      } catch (WakeupException e) {
        // closing
      } finally {
        consumer.close(Duration.ofSeconds(5));
      }
    }

    /** By docs/brokers.md alone. */
    static TransactionalMessage decode(ConsumerRecord<byte[], byte[]> record) {
      Map<String, String> headers = new LinkedHashMap<>();
      String id = null;
      String topic = null;
      String key = null;
      String gid = null;
      for (Header h : record.headers()) {
        String value = new String(h.value(), StandardCharsets.UTF_8);
        switch (h.key()) {
          case "pledge-message-id" -> id = value;
          case "pledge-topic" -> topic = value;
          case "pledge-key" -> key = value;
          case "pledge-gid" -> gid = value;
          default -> headers.put(h.key(), value);
        }
      }
      String recordKey = new String(record.key(), StandardCharsets.UTF_8);
      if (!recordKey.equals(key == null ? topic : key)) {
        throw new AssertionError("record key " + recordKey + " is not the ordering key");
      }
      return new TransactionalMessage(
          id, topic, key, new String(record.value(), StandardCharsets.UTF_8), headers, gid);
    }

    @Override
    public MessageSink openSink(int maxInFlight) {
      MessageSink sink =
          new KafkaSinkProvider(config.withMaxInFlight(maxInFlight))
              .open(URI.create("kafka://" + kafka.proxied() + "/" + topic));
      sinks.add(sink);
      return sink;
    }

    @Override
    public List<TransactionalMessage> received() {
      synchronized (received) {
        return List.copyOf(received);
      }
    }

    @Override
    public int maxPayloadBytes() {
      return config.maxPayloadBytes();
    }

    @Override
    public void stall() {
      kafka.proxy.stall();
    }

    @Override
    public void resume() {
      kafka.proxy.resume();
    }

    @Override
    public void cut() {
      kafka.proxy.cut();
    }

    @Override
    public void restore() {
      kafka.proxy.restore();
    }

    @Override
    public void close() {
      sinks.forEach(MessageSink::close);
      kafka.proxy.resume();
      kafka.proxy.restore();
      running = false;
      consumer.wakeup();
      try {
        reader.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
