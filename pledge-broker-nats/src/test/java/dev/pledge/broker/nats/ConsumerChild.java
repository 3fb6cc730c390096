package dev.pledge.broker.nats;

import dev.pledge.broker.testkit.KilledConsumerChild;
import java.net.URI;
import java.time.Duration;

/**
 * A {@link NatsConsumer} feeding the SDK's inbox in a process of its own, for {@link
 * ConsumerKilledTest}; what it prints and when it hangs: {@link KilledConsumerChild}. Arguments:
 * the nats target, the stream and ledger name, hang-after (0: never).
 */
public final class ConsumerChild {
  private ConsumerChild() {}

  public static void main(String[] args) {
    KilledConsumerChild child = new KilledConsumerChild(args[1], Integer.parseInt(args[2]));
    // Redelivery after a consumer died waits for AckWait: 2 s here, 30 s by default.
    NatsConsumer.start(
        NatsTarget.parse(URI.create(args[0])),
        NatsConsumerConfig.of(args[1], "shipping")
            .withMaxAckPending(8)
            .withAckWait(Duration.ofSeconds(2))
            .withRetryDelay(Duration.ofMillis(20)),
        child.handler());
    child.ready();
  }
}
