package dev.pledge.testkit;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.contract.MessageSinkContract;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The in-memory broker's sink against the contract: the reference implementation. */
class InMemoryBrokerTest extends MessageSinkContract {
  private static final int MAX_PAYLOAD_BYTES = 64 * 1024;

  @Override
  protected Fixture newFixture(String name) {
    InMemoryBroker broker = new InMemoryBroker();
    List<MessageSink> sinks = new ArrayList<>();
    return new Fixture() {
      @Override
      public MessageSink openSink(int maxInFlight) {
        MessageSink sink = broker.sink(name, maxInFlight, Duration.ofSeconds(3), MAX_PAYLOAD_BYTES);
        sinks.add(sink);
        return sink;
      }

      @Override
      public List<TransactionalMessage> received() {
        return broker.messages(name);
      }

      @Override
      public int maxPayloadBytes() {
        return MAX_PAYLOAD_BYTES;
      }

      @Override
      public void stall() {
        broker.stall();
      }

      @Override
      public void resume() {
        broker.resume();
      }

      @Override
      public void cut() {
        broker.down();
      }

      @Override
      public void restore() {
        broker.up();
      }

      @Override
      public void close() {
        sinks.forEach(MessageSink::close);
      }
    };
  }
}
