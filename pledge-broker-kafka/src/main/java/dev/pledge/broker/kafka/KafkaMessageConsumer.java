package dev.pledge.broker.kafka;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the records of a Kafka topic to a {@link MessageHandler} (usually the SDK's inbox), in
 * partition order, one at a time, on a thread of its own.
 *
 * <p>Offsets are committed only after the handler returned for every record up to them (after each
 * poll's records), never automatically: a consumer that dies before the commit has those records
 * again (the inbox drops the duplicates). A record whose handler throws is tried again in place,
 * after {@link KafkaConsumerConfig#retryDelay()}, which holds its partition back and so keeps the
 * order; after {@link KafkaConsumerConfig#maxDeliveries()} attempts it is published, with its key,
 * value and headers plus {@code pledge-dead-reason}, {@code pledge-deliveries} and {@code
 * pledge-dead-source}, to the dead-letter topic {@code <topic>.dead} (acks=all, idempotent), and
 * only then is its offset committed. A record that cannot be decoded goes there at once. If the
 * dead-letter topic cannot be written, the consumer keeps trying: the record is never skipped.
 */
public final class KafkaMessageConsumer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaMessageConsumer.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long DEAD_LETTER_TIMEOUT_SECONDS = 30;

  private final KafkaTarget target;
  private final KafkaConsumerConfig config;
  private final MessageHandler handler;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> deadLetters;
  private final Thread thread;
  private volatile boolean running = true;

  private KafkaMessageConsumer(
      KafkaTarget target, KafkaConsumerConfig config, MessageHandler handler) {
    this.target = target;
    this.config = config;
    this.handler = handler;
    Properties consumerProperties = new Properties();
    consumerProperties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
    consumerProperties.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    consumerProperties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerProperties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerProperties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxPollRecords());
    consumerProperties.put(
        ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
        Math.toIntExact(config.maxPollInterval().toMillis()));
    consumerProperties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    this.consumer =
        new KafkaConsumer<>(
            consumerProperties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    Properties producerProperties = new Properties();
    producerProperties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
    producerProperties.put(ProducerConfig.ACKS_CONFIG, "all");
    producerProperties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerProperties.put(
        ProducerConfig.CLIENT_ID_CONFIG, "pledge-dead-letters-" + config.groupId());
    this.deadLetters =
        new KafkaProducer<>(
            producerProperties, new ByteArraySerializer(), new ByteArraySerializer());
    this.thread =
        Thread.ofPlatform()
            .name("pledge-kafka-consumer-" + target.topic() + "-" + config.groupId())
            .unstarted(this::run);
  }

  /** Subscribes and consumes on a thread of its own until closed. */
  public static KafkaMessageConsumer start(
      KafkaTarget target, KafkaConsumerConfig config, MessageHandler handler) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(handler, "handler");
    KafkaMessageConsumer consumer = new KafkaMessageConsumer(target, config, handler);
    consumer.thread.start();
    return consumer;
  }

  /** The dead-letter topic of {@code target}: {@code <topic>.dead}. */
  public static String deadLetterTopic(KafkaTarget target) {
    return target.topic() + ".dead";
  }

  /** Whether the consuming thread still runs (it stops when closed, or on an error it logs). */
  public boolean isRunning() {
    return thread.isAlive();
  }

  private void run() {
    try {
      consumer.subscribe(List.of(target.topic()));
      log.info("consuming {} as group {}", target.toUri(), config.groupId());
      while (running) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
        Map<TopicPartition, OffsetAndMetadata> handled = new HashMap<>();
        batch:
        for (TopicPartition partition : records.partitions()) {
          for (ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
            if (!handle(record)) {
              break batch; // closing in the middle of retries: not committed, handled again later
            }
            handled.put(partition, new OffsetAndMetadata(record.offset() + 1));
          }
        }
        if (!handled.isEmpty()) {
          consumer.commitSync(handled);
        }
      }
    } catch (WakeupException e) {
      // close() woke the poll
    } catch (KafkaException e) {
      log.error("consumer of {} stopped: {}", target.toUri(), e.toString(), e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
      deadLetters.close(Duration.ofSeconds(5));
    }
  }

  /** Handles one record, or dead-letters it; false when closing stopped it half-way. */
  private boolean handle(ConsumerRecord<byte[], byte[]> record) {
    TransactionalMessage message;
    try {
      message = KafkaHeaders.decode(record.headers(), record.value());
    } catch (IllegalArgumentException e) {
      log.error("undecodable record at {}: {}", source(record), e.getMessage());
      return deadLetter(record, "undecodable: " + e.getMessage(), 1);
    }
    for (int attempt = 1; ; attempt++) {
      try {
        handler.handle(message);
        return true;
      } catch (RuntimeException e) {
        log.warn(
            "handler failed on {} at {} (attempt {} of {}): {}",
            message.id(),
            source(record),
            attempt,
            config.maxDeliveries(),
            e.toString());
        if (attempt >= config.maxDeliveries()) {
          return deadLetter(record, e.toString(), attempt);
        }
        if (!pause(config.retryDelay())) {
          return false;
        }
      }
    }
  }

  private boolean deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, int attempts) {
    RecordHeaders headers = new RecordHeaders(record.headers().toArray());
    headers.add("pledge-dead-reason", KafkaHeaders.utf8(abbreviate(reason)));
    headers.add("pledge-deliveries", KafkaHeaders.utf8(Integer.toString(attempts)));
    headers.add("pledge-dead-source", KafkaHeaders.utf8(source(record)));
    ProducerRecord<byte[], byte[]> dead =
        new ProducerRecord<>(deadLetterTopic(target), null, record.key(), record.value(), headers);
    Duration backoff = Duration.ofMillis(200);
    while (running) {
      try {
        deadLetters.send(dead).get(DEAD_LETTER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        log.warn("record at {} dead-lettered to {}", source(record), deadLetterTopic(target));
        return true;
      } catch (ExecutionException | TimeoutException | KafkaException e) {
        log.error(
            "cannot dead-letter the record at {}; trying again: {}", source(record), e.toString());
        if (!pause(backoff)) {
          return false;
        }
        backoff =
            backoff.multipliedBy(2).compareTo(Duration.ofSeconds(10)) > 0
                ? Duration.ofSeconds(10)
                : backoff.multipliedBy(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private boolean pause(Duration delay) {
    if (delay.isZero()) {
      return running;
    }
    try {
      Thread.sleep(delay);
      return running;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String source(ConsumerRecord<?, ?> record) {
    return record.topic() + "-" + record.partition() + "@" + record.offset();
  }

  private static String abbreviate(String text) {
    return text.length() <= 512 ? text : text.substring(0, 512);
  }

  /** Stops after the record in hand, commits what was handled, and leaves the group. */
  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
