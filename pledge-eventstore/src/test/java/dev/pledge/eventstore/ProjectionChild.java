package dev.pledge.eventstore;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The child JVM of {@link ProjectionKillTest}: runs the {@link Tally} projection of one stream
 * prefix on PostgreSQL. With a block position, it stops inside the batch that holds that event,
 * after applying the events before it and before the batch commits, prints {@code BLOCKED}, and
 * waits there to be killed.
 *
 * <p>Arguments: jdbcUrl user name prefix initialPosition blockAtPosition(-1 for none)
 */
final class ProjectionChild {
  private ProjectionChild() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    EventStoreConfig config = EventStoreConfig.forUrl(args[0]).withCredentials(args[1], "");
    String name = args[2];
    long initial = Long.parseLong(args[4]);
    long blockAt = Long.parseLong(args[5]);
    CountDownLatch never = new CountDownLatch(1);
    Tally tally =
        new Tally(name, args[3]) {
          @Override
          public void apply(Connection connection, RecordedEvent event) throws SQLException {
            super.apply(connection, event);
            if (event.position() == blockAt) {
              out.println("BLOCKED " + event.position());
              try {
                never.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted", e);
              }
            }
          }
        };
    EventStore store = EventStore.open(config);
    ProjectionRunner.start(
        store,
        tally,
        ProjectionRunner.Options.defaults()
            .withOwner("child-" + ProcessHandle.current().pid())
            .withBatchSize(100)
            .withLease(Duration.ofSeconds(1))
            .withInitialPosition(initial));
    out.println("STARTED");
    never.await();
  }
}
