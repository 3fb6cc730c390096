package dev.pledge.core.runtime;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each topic's messages go, as the runtime needs it: the subscriptions of the topics a
 * committed transaction published to, and each subscription's target. Thread-safe.
 */
public interface SubscriptionDirectory {
  /** The target of a subscription ({@code http://…}, {@code amqp://…}, …), or null if none. */
  String target(String subscription);

  /** The subscription names of each topic, in a stable order; every topic is a key. */
  Map<String, List<String>> byTopic(Set<String> topics);
}
