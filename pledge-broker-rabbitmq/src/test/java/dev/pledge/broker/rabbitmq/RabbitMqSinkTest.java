package dev.pledge.broker.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import dev.pledge.broker.rabbitmq.RabbitMqSinkContractTest.RabbitFixture;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the RabbitMQ sink promises beyond the contract, on the real broker. */
class RabbitMqSinkTest {
  private RabbitFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private RabbitFixture fixture(String test, Duration ackTimeout) {
    fixture =
        new RabbitFixture(
            "sink-" + test + "-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36),
            RabbitMqSinkContractTest.CONFIG.withAckTimeout(ackTimeout));
    return fixture;
  }

  @Test
  void publishes_persistent_withMessageIdContentTypeAndPledgeHeaders() {
    RabbitFixture f = fixture("wire", Duration.ofSeconds(5));
    MessageSink sink = f.openSink(16);
    TransactionalMessage message =
        new TransactionalMessage(
            "m-1", "order.placed", "order-7", "{\"a\":1}", Map.of("trace", "t1"), "shop:g1");

    sink.publish(message).join();

    await().atMost(Duration.ofSeconds(30)).until(() -> f.received().size() == 1);
    AMQP.BasicProperties props = f.properties().getFirst();
    assertThat(props.getDeliveryMode()).as("persistent").isEqualTo(2);
    assertThat(props.getMessageId()).isEqualTo("m-1");
    assertThat(props.getContentType()).isEqualTo("application/json");
    assertThat(props.getHeaders())
        .containsOnlyKeys("pledge-topic", "pledge-key", "pledge-gid", "trace");
    assertThat(f.received()).containsExactly(message);
  }

  @Test
  void producerHeadersNamedPledge_areNotSent() {
    RabbitFixture f = fixture("reserved", Duration.ofSeconds(5));
    MessageSink sink = f.openSink(16);
    TransactionalMessage message =
        new TransactionalMessage(
            "m-1", "t", null, "{}", Map.of("pledge-gid", "forged", "ok", "1"), null);

    sink.publish(message).join();

    await().atMost(Duration.ofSeconds(30)).until(() -> f.received().size() == 1);
    assertThat(f.properties().getFirst().getHeaders()).containsOnlyKeys("pledge-topic", "ok");
  }

  /**
   * The broker closes the connection (rabbitmqctl close_connection) while publishes wait for their
   * confirms: the sink reconnects and publishes them again, and each is confirmed.
   */
  @Test
  void connectionClosedByTheBroker_beforeTheConfirms_unconfirmedAreRepublishedAndConfirmed() {
    RabbitFixture f = fixture("broker-close", Duration.ofSeconds(60));
    MessageSink sink = f.openSink(64);
    sink.publish(new TransactionalMessage("warm-up", "t", "k", "{}", null, null)).join();
    long connectionsBefore = f.proxy.connectionsAccepted();
    f.stall();
    List<TransactionalMessage> sent =
        IntStream.range(0, 20)
            .mapToObj(i -> new TransactionalMessage("m-" + i, "t", "k" + (i % 4), "{}", null, null))
            .toList();
    List<CompletableFuture<Void>> acks = sent.stream().map(sink::publish).toList();

    assertThat(RabbitMqBroker.closeConnectionsNamed("pledge sink " + f.exchange)).isEqualTo(1);
    f.resume();

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> acks.stream().allMatch(CompletableFuture::isDone));
    assertThat(acks).allMatch(ack -> !ack.isCompletedExceptionally());
    assertThat(f.proxy.connectionsAccepted()).isGreaterThan(connectionsBefore);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(f.received()).containsAll(sent));
  }
}
