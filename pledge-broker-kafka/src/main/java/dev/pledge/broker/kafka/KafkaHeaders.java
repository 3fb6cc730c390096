package dev.pledge.broker.kafka;

import dev.pledge.core.TransactionalMessage;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The wire form of a transactional message on Kafka (DESIGN.md, Brokers; docs/brokers.md): record
 * key the message's ordering key (its key, or its topic when it has none) in UTF-8, value the
 * payload as UTF-8 JSON, headers {@code pledge-message-id}, {@code pledge-topic}, {@code
 * pledge-key} (when the message has a key), {@code pledge-gid} (when it has a gid), plus the
 * producer's own headers; header values are UTF-8. Header names starting with {@code pledge-} are
 * reserved.
 */
final class KafkaHeaders {
  static final String MESSAGE_ID = "pledge-message-id";
  static final String TOPIC = "pledge-topic";
  static final String KEY = "pledge-key";
  static final String GID = "pledge-gid";

  private KafkaHeaders() {}

  static ProducerRecord<byte[], byte[]> record(String kafkaTopic, TransactionalMessage message) {
    Headers headers = new RecordHeaders();
    message
        .headers()
        .forEach((name, value) -> {
          if (!isReserved(name)) {
            headers.add(name, utf8(value));
          }
        });
    headers.add(MESSAGE_ID, utf8(message.id()));
    headers.add(TOPIC, utf8(message.topic()));
    if (message.key() != null) {
      headers.add(KEY, utf8(message.key()));
    }
    if (message.gid() != null) {
      headers.add(GID, utf8(message.gid()));
    }
    return new ProducerRecord<>(
        kafkaTopic, null, utf8(message.orderingKey()), utf8(message.payload()), headers);
  }

  /**
   * The message a consumer received.
   *
   * @throws IllegalArgumentException when it lacks {@code pledge-message-id} or {@code
   *     pledge-topic}, or its id is malformed: it can never be handled
   */
  static TransactionalMessage decode(Headers recordHeaders, byte[] value) {
    Map<String, String> headers = new LinkedHashMap<>();
    String id = null;
    String topic = null;
    String key = null;
    String gid = null;
    for (Header header : recordHeaders) {
      String text =
          header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
      switch (header.key()) {
        case MESSAGE_ID -> id = text;
        case TOPIC -> topic = text;
        case KEY -> key = text;
        case GID -> gid = text;
        default -> {
          if (!isReserved(header.key()) && text != null) {
            headers.put(header.key(), text);
          }
        }
      }
    }
    if (id == null || topic == null) {
      throw new IllegalArgumentException(
          "record has no " + (id == null ? MESSAGE_ID : TOPIC) + " header");
    }
    return new TransactionalMessage(
        id,
        topic,
        key,
        value == null ? "null" : new String(value, StandardCharsets.UTF_8),
        headers,
        gid);
  }

  static boolean isReserved(String name) {
    return name.toLowerCase(Locale.ROOT).startsWith("pledge-");
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
