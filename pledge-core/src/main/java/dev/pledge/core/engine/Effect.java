package dev.pledge.core.engine;

import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import java.util.Map;
import java.util.Set;

/**
 * Something the runtime must do after the decision that asked for it is in the log. Each effect
 * carries what the runtime needs, so executing it reads nothing else.
 */
public sealed interface Effect {

  /**
   * {@code POST url} with the payload, headers {@code Pledge-Gid}, {@code -Branch}, {@code -Op},
   * {@code -Mode}, {@code -Attempt}.
   */
  record CallOp(Gid gid, Mode mode, String branchId, Op op, int attempt, String url, String payload)
      implements Effect {}

  /** {@code GET checkUrl?gid=…}: ask the producer whether its local transaction committed. */
  record CheckBack(Gid gid, String checkUrl, int attempt) implements Effect {}

  /** Look up the subscriptions of these topics and answer with {@code SubscribersResolved}. */
  record ResolveSubscribers(Gid gid, Set<String> topics) implements Effect {}

  /** Send one committed message to one subscription. */
  record Deliver(
      Gid gid,
      String messageId,
      String subscription,
      int attempt,
      String topic,
      String key,
      String payload,
      Map<String, String> headers)
      implements Effect {}
}
