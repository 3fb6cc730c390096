package dev.pledge.client.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.inbox.InboxOutcome;
import dev.pledge.client.testing.TestDatabase;
import dev.pledge.core.TransactionalMessage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay in a real child JVM killed with {@code -9} in the middle of a batch, when the sink has
 * acknowledged some messages the relay has not marked yet: nothing is lost (a new relay publishes
 * every row), the acknowledged-but-unmarked ones are published twice, and a consumer's inbox runs
 * each message's effect once.
 */
class RelayKilledTest {
  private Process child;

  @AfterEach
  void killChild() throws InterruptedException {
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void relayKilledMidBatch_losesNothing_andTheInboxAbsorbsTheDuplicates() throws Exception {
    TestDatabase producer = TestDatabase.sqlite();
    Path sinkFile = Files.createTempDirectory("relay-killed-").resolve("sink.jsonl");
    Outbox outbox = Outbox.create(producer.dataSource());
    List<String> ids = new ArrayList<>();
    try (Connection c = producer.dataSource().getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < 200; i++) {
        ids.add(outbox.publish(c, "orders", "k" + (i % 5), "{\"n\":" + i + "}", Map.of()));
      }
      c.commit();
    }
    String dbFile;
    try (Connection c = producer.dataSource().getConnection()) {
      dbFile = c.getMetaData().getURL().substring("jdbc:sqlite:".length());
    }

    String java = ProcessHandle.current().info().command().orElse("java");
    child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                RelayChild.class.getName(),
                dbFile,
                sinkFile.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).isEqualTo("RELAYING");
    // Mid-batch: some messages acknowledged (in the sink's file), the batch not yet marked.
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> FileSink.read(sinkFile).size() >= 60);
    child.destroyForcibly();
    assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
    int beforeKill = FileSink.read(sinkFile).size();
    long markedAtKill =
        producer.queryLong("SELECT COUNT(*) FROM pledge_outbox WHERE published_micros IS NOT NULL");
    assertThat(markedAtKill).as("a batch was caught unmarked").isLessThan(beforeKill);

    try (FileSink sink = new FileSink(sinkFile, Duration.ofMillis(1));
        OutboxRelay relay =
            OutboxRelay.create(
                producer.dataSource(), sink, RelayConfig.defaults(), RelayListener.NONE)) {
      while (relay.runOnce() > 0) {
        // drain
      }
    }
    assertThat(
            producer.queryLong("SELECT COUNT(*) FROM pledge_outbox WHERE published_micros IS NULL"))
        .isZero();
    List<TransactionalMessage> delivered = FileSink.read(sinkFile);
    Set<String> distinct = new LinkedHashSet<>();
    delivered.forEach(m -> distinct.add(m.id()));
    assertThat(distinct).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(delivered.size()).as("some published twice").isGreaterThan(ids.size());

    TestDatabase consumer = TestDatabase.sqlite();
    consumer.execute("CREATE TABLE effect (id VARCHAR(200) NOT NULL)");
    Inbox inbox = Inbox.create(consumer.dataSource());
    int duplicates = 0;
    for (TransactionalMessage m : delivered) {
      InboxOutcome outcome =
          inbox.handle(
              m,
              c -> {
                try (var s = c.prepareStatement("INSERT INTO effect VALUES (?)")) {
                  s.setString(1, m.id());
                  s.executeUpdate();
                }
              });
      if (outcome == InboxOutcome.DUPLICATE) {
        duplicates++;
      }
    }
    assertThat(consumer.queryLong("SELECT COUNT(*) FROM effect")).isEqualTo(ids.size());
    assertThat(consumer.queryLong("SELECT COUNT(DISTINCT id) FROM effect")).isEqualTo(ids.size());
    assertThat(duplicates).isEqualTo(delivered.size() - ids.size());
  }
}
