package dev.pledge.server.runtime;

import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.runtime.Transport;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The server's transport: op calls and check-backs over HTTP; a delivery over HTTP to an {@code
 * http(s)://} target, or to a broker through {@link BrokerSinks} for {@code amqp://}, {@code
 * kafka://} and {@code nats://} targets, whose host must pass the same allow-list.
 */
public final class DeliveryRouter implements Transport {
  private final Transport http;
  private final BrokerSinks brokers;
  private final AllowList allowList;

  public DeliveryRouter(Transport http, BrokerSinks brokers, AllowList allowList) {
    this.http = Objects.requireNonNull(http, "http");
    this.brokers = Objects.requireNonNull(brokers, "brokers");
    this.allowList = Objects.requireNonNull(allowList, "allowList");
  }

  @Override
  public CompletableFuture<Outcome> call(Effect.CallOp call) {
    return http.call(call);
  }

  @Override
  public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
    return http.checkBack(check);
  }

  @Override
  public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
    String lower = target.toLowerCase(Locale.ROOT);
    if (lower.startsWith("http://") || lower.startsWith("https://") || !brokers.handles(target)) {
      return http.deliver(delivery, target);
    }
    if (!allowList.allowsBroker(target)) {
      return CompletableFuture.completedFuture(
          new Outcome.Unknown(
              BrokerSinks.redacted(target) + " is not on the coordinator's allow-list"));
    }
    return brokers.deliver(delivery, target);
  }
}
