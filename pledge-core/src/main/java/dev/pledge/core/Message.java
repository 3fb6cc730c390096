package dev.pledge.core;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A transactional message: stored when prepared, invisible until its transaction commits, then
 * delivered to every subscription of its topic. {@code deliveries} is empty until the commit
 * decision has been logged and the subscribers resolved.
 */
public record Message(
    String messageId,
    String topic,
    String key,
    String payload,
    Map<String, String> headers,
    List<Delivery> deliveries) {

  public Message {
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(payload, "payload");
    headers = Map.copyOf(headers);
    deliveries = List.copyOf(deliveries);
  }

  public Message withDeliveries(List<Delivery> next) {
    return new Message(messageId, topic, key, payload, headers, next);
  }

  public Delivery delivery(String subscription) {
    for (Delivery delivery : deliveries) {
      if (delivery.subscription().equals(subscription)) {
        return delivery;
      }
    }
    return null;
  }
}
