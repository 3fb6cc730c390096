package dev.pledge.broker.rabbitmq;

import com.rabbitmq.client.AMQP;
import dev.pledge.core.TransactionalMessage;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The wire form of a transactional message on AMQP (DESIGN.md, Brokers; docs/brokers.md): body the
 * payload as UTF-8 JSON, {@code message_id} the id, persistent, headers {@code pledge-topic},
 * {@code pledge-key} (when the message has a key), {@code pledge-gid} (when it has a gid), plus the
 * producer's own headers. Headers whose names start with {@code pledge-} are reserved: a producer's
 * header of that name is not sent.
 */
final class AmqpHeaders {
  static final String TOPIC = "pledge-topic";
  static final String KEY = "pledge-key";
  static final String GID = "pledge-gid";
  private static final String RESERVED_PREFIX = "pledge-";

  private AmqpHeaders() {}

  static AMQP.BasicProperties properties(TransactionalMessage message) {
    Map<String, Object> headers = new LinkedHashMap<>();
    message
        .headers()
        .forEach((name, value) -> {
          if (!isReserved(name)) {
            headers.put(name, value);
          }
        });
    headers.put(TOPIC, message.topic());
    if (message.key() != null) {
      headers.put(KEY, message.key());
    }
    if (message.gid() != null) {
      headers.put(GID, message.gid());
    }
    return new AMQP.BasicProperties.Builder()
        .messageId(message.id())
        .deliveryMode(2)
        .contentType("application/json")
        .contentEncoding("utf-8")
        .headers(headers)
        .build();
  }

  static byte[] body(TransactionalMessage message) {
    return message.payload().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The message a consumer received.
   *
   * @throws IllegalArgumentException when it lacks a {@code message_id} or {@code pledge-topic}, or
   *     the id is malformed: such a message can never be handled, and is dead-lettered at once
   */
  static TransactionalMessage decode(AMQP.BasicProperties properties, byte[] body) {
    if (properties == null || properties.getMessageId() == null) {
      throw new IllegalArgumentException("message has no message_id");
    }
    Map<String, Object> raw = properties.getHeaders() == null ? Map.of() : properties.getHeaders();
    Map<String, String> headers = new LinkedHashMap<>();
    String topic = null;
    String key = null;
    String gid = null;
    for (Map.Entry<String, Object> header : raw.entrySet()) {
      String value = header.getValue() == null ? null : header.getValue().toString();
      switch (header.getKey()) {
        case TOPIC -> topic = value;
        case KEY -> key = value;
        case GID -> gid = value;
        default -> {
          if (!isReserved(header.getKey()) && !isBrokers(header.getKey()) && value != null) {
            headers.put(header.getKey(), value);
          }
        }
      }
    }
    if (topic == null) {
      throw new IllegalArgumentException(
          "message " + properties.getMessageId() + " has no " + TOPIC + " header");
    }
    return new TransactionalMessage(
        properties.getMessageId(),
        topic,
        key,
        new String(body, StandardCharsets.UTF_8),
        headers,
        gid);
  }

  /** Headers RabbitMQ adds on redelivery and dead-lettering, which no producer sent. */
  private static boolean isBrokers(String name) {
    return name.equals("x-delivery-count")
        || name.equals("x-death")
        || name.startsWith("x-first-death-")
        || name.startsWith("x-last-death-");
  }

  private static boolean isReserved(String name) {
    return name.toLowerCase(Locale.ROOT).startsWith(RESERVED_PREFIX);
  }
}
