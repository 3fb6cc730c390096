package dev.pledge.client.outbox;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * An outbox relay in a process of its own, for {@link RelayKilledTest}: relays the outbox of a
 * SQLite file to a {@link FileSink} in batches of 50, each message acknowledged after 20 ms, until
 * killed. Arguments: the database file, the sink's file.
 */
public final class RelayChild {
  private RelayChild() {}

  public static void main(String[] args) throws Exception {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setBusyTimeout(10_000);
    SQLiteDataSource db = new SQLiteDataSource(config);
    db.setUrl("jdbc:sqlite:" + args[0]);
    FileSink sink = new FileSink(Path.of(args[1]), Duration.ofMillis(20));
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
