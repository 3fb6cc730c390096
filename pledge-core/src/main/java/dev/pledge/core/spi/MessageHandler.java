package dev.pledge.core.spi;

import dev.pledge.core.TransactionalMessage;

/**
 * What a consumer adapter (RabbitMQ, Kafka, NATS, or an HTTP delivery endpoint) calls for each
 * message it receives. Usually the SDK's inbox, which runs the application's effect and records the
 * message id in one local transaction.
 *
 * <p>Contract: returning normally means the message's effect is committed, so the adapter may
 * acknowledge it (the default, manual acknowledgement after the local transaction). Throwing means
 * it was not handled: the adapter delivers it again, up to its configured bound of deliveries, then
 * dead-letters it. A handler must tolerate the same message more than once (at-least-once
 * delivery).
 */
@FunctionalInterface
public interface MessageHandler {
  void handle(TransactionalMessage message);
}
