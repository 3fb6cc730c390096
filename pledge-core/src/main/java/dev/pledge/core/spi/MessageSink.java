package dev.pledge.core.spi;

import dev.pledge.core.TransactionalMessage;
import java.util.concurrent.CompletableFuture;

/**
 * Where committed transactional messages are published: a RabbitMQ exchange, a Kafka topic, a NATS
 * JetStream subject, or the coordinator itself (an outbox relay publishing as a {@code msg}
 * transaction). Used by the coordinator's deliveries and by the SDK's outbox relay alike; a sink is
 * opened from a subscription target by a {@link MessageSinkProvider}.
 *
 * <p>Contract, checked by the testkit's {@code MessageSinkContract} for every implementation:
 *
 * <ul>
 *   <li>{@link #publish} returns at once; its future completes normally only after the sink's
 *       durable acknowledgement (a publisher confirm, {@code acks=all}, a JetStream ack). Only then
 *       may the caller mark the message published.
 *   <li>It completes exceptionally with {@link SinkUnavailableException} when the outcome is
 *       unknown (broker down, connection lost, no acknowledgement in time): the caller publishes
 *       the same message again later, and the consumer's inbox drops the duplicate. It completes
 *       exceptionally with {@link SinkRejectedException} when the message can never be published as
 *       it is (too large for the broker, a malformed target); retrying it does not help.
 *   <li>Messages with the same ordering key passed to {@code publish} one after another, each after
 *       the previous one's future completed normally, are visible to consumers in that order. A
 *       caller that needs order per key therefore waits for each message's acknowledgement before
 *       publishing the next message of the same key; messages of different keys may be in flight
 *       together, up to the sink's in-flight bound.
 *   <li>The number of unacknowledged messages is bounded; past the bound, {@code publish} completes
 *       exceptionally with {@link SinkUnavailableException} rather than queueing without limit.
 *   <li>After {@link #close} returns, every future it returned has completed, and {@code publish}
 *       completes exceptionally with {@link SinkUnavailableException}.
 * </ul>
 *
 * <p>Implementations are thread-safe. {@code publish} never throws; every failure is in the future.
 */
public interface MessageSink extends AutoCloseable {

  /** Publishes one message; see the class comment for when the future completes and how. */
  CompletableFuture<Void> publish(TransactionalMessage message);

  /** Releases the sink's connections. Idempotent. */
  @Override
  void close();
}
