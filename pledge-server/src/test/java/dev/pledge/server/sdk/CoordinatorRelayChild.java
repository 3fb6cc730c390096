package dev.pledge.server.sdk;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.outbox.CoordinatorSink;
import dev.pledge.client.outbox.OutboxRelay;
import dev.pledge.client.outbox.RelayConfig;
import dev.pledge.client.outbox.RelayListener;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * An outbox relay in a process of its own, for {@link RelayKilledWithCoordinatorTest}: relays the
 * outbox of a PostgreSQL database to the coordinator ({@link CoordinatorSink}) in batches of 50
 * until killed. Arguments: JDBC URL, coordinator URL, the relay's check-back URL.
 */
public final class CoordinatorRelayChild {
  private CoordinatorRelayChild() {}

  public static void main(String[] args) throws Exception {
    PGSimpleDataSource db = new PGSimpleDataSource();
    db.setUrl(args[0]);
    db.setUser("postgres");
    PledgeClient pledge = PledgeClient.create(PledgeClientConfig.of(args[1]));
    CoordinatorSink sink =
        new CoordinatorSink(pledge, args[2], Duration.ofSeconds(60), Duration.ofSeconds(30), 64);
    OutboxRelay.start(
        db,
        sink,
        RelayConfig.defaults().withBatchSize(50).withIdleWait(Duration.ofMillis(50)),
        RelayListener.NONE);
    System.out.println("RELAYING");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
