package dev.pledge.spring;

import dev.pledge.core.Op;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Serves a bean method as a participant op at {@code path}: the starter checks the {@code Pledge-*}
 * headers and runs the method behind the barrier, inside a transaction of the application's
 * transaction manager, on the connection of the application's {@code DataSource}. The method takes
 * {@code (java.sql.Connection, dev.pledge.client.participant.ParticipantRequest)} and returns
 * nothing; throwing {@link dev.pledge.client.barrier.BusinessRefusal} from a forward op answers
 * {@code 409}.
 *
 * <pre>{@code
 * @PledgeEndpoint(path = "/stock/reserve", op = Op.ACTION)
 * void reserve(Connection connection, ParticipantRequest request) throws SQLException { ... }
 *
 * @PledgeEndpoint(path = "/stock/release", op = Op.COMPENSATE)
 * void release(Connection connection, ParticipantRequest request) throws SQLException { ... }
 * }</pre>
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface PledgeEndpoint {
  /** The path the coordinator posts to, starting with {@code /}. */
  String path();

  /** The op this method is. */
  Op op();
}
