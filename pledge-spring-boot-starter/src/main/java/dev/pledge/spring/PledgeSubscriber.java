package dev.pledge.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Serves a bean method as the receiver of transactional messages at {@code path}: the target of a
 * coordinator subscription over HTTP, and, through {@link PledgeEndpointServer#subscriber}, the
 * handler a broker consumer adapter feeds. The starter builds the message from the {@code Pledge-*}
 * headers and runs the method through the SDK's inbox, inside a transaction of the application's
 * transaction manager, on the connection of the application's {@code DataSource}: the method runs
 * once per message id however often the message is delivered, and a duplicate is acknowledged
 * without calling it. The method takes {@code (java.sql.Connection,
 * dev.pledge.core.TransactionalMessage)} and returns nothing; throwing rolls its work and the inbox
 * row back, and the message is delivered again.
 *
 * <pre>{@code
 * @PledgeSubscriber(path = "/inbox")
 * void ship(Connection connection, TransactionalMessage message) throws SQLException { ... }
 * }</pre>
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface PledgeSubscriber {
  /** The path the coordinator posts deliveries to, starting with {@code /}. */
  String path();
}
