package dev.pledge.core;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A transactional message as it travels once it may be seen: from the coordinator's deliveries or
 * an outbox relay to a sink (a broker, the coordinator), and out of a consumer adapter into the
 * consumer's inbox. The id is what makes delivery idempotent: a sink that can deduplicate uses it
 * (NATS {@code Nats-Msg-Id}, AMQP {@code message_id}), and the inbox drops a second message with
 * the same id.
 *
 * @param id unique per message, at most 200 characters of {@code [A-Za-z0-9._:#-]}; the
 *     coordinator's messages are {@code <gid>#<n>}, an outbox's a UUID
 * @param topic what subscriptions match on; never blank
 * @param key the ordering key, or null when the message has no ordering constraint
 * @param payload the body as JSON text
 * @param headers the producer's headers (never the reserved {@code pledge-*} ones, which sinks add)
 * @param gid the global transaction that committed the message, or null for a message published
 *     from an outbox outside any global transaction
 */
public record TransactionalMessage(
    String id, String topic, String key, String payload, Map<String, String> headers, String gid) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:#-]{1,200}");

  public TransactionalMessage {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "id must match [A-Za-z0-9._:#-]{1,200}, was \"" + abbreviate(id) + "\"");
    }
    if (topic.isBlank()) {
      throw new IllegalArgumentException("topic must not be blank");
    }
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }

  /**
   * The key that orders this message among its topic's: its own key, or its topic when it has none.
   */
  public String orderingKey() {
    return key == null ? topic : key;
  }

  private static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 40) + "…";
  }
}
