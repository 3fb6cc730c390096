package dev.pledge.broker.rabbitmq;

import dev.pledge.client.outbox.OutboxRelay;
import dev.pledge.client.outbox.RelayConfig;
import dev.pledge.client.outbox.RelayListener;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The SDK's outbox relay publishing through the RabbitMQ sink, in a process of its own, for {@link
 * RelayKilledOrderTest}: relays the outbox of a PostgreSQL database in batches of 20 until killed.
 * Prints {@code RELAYING} once started. Arguments: the JDBC URL (user postgres), the amqp target.
 */
public final class RelayChild {
  private RelayChild() {}

  public static void main(String[] args) throws Exception {
    PGSimpleDataSource db = new PGSimpleDataSource();
    db.setUrl(args[0]);
    db.setUser("postgres");
    OutboxRelay.start(
        db,
        new RabbitMqSinkProvider(RabbitMqSinkContractTest.CONFIG).open(URI.create(args[1])),
        RelayConfig.defaults().withBatchSize(20).withIdleWait(Duration.ofMillis(20)),
        RelayListener.NONE);
    System.out.println("RELAYING");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
