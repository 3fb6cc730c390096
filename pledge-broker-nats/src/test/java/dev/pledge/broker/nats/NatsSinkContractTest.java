package dev.pledge.broker.nats;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.contract.MessageSinkContract;
import dev.pledge.testkit.net.TcpProxy;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The NATS JetStream sink against the contract, on the real server, through a proxy. */
class NatsSinkContractTest extends MessageSinkContract {
  static final int MAX_PAYLOAD_BYTES = 256 * 1024;
  static final NatsSinkConfig CONFIG =
      NatsSinkConfig.DEFAULT
          .withAckTimeout(Duration.ofSeconds(5))
          .withMaxPayloadBytes(MAX_PAYLOAD_BYTES);

  @Override
  protected Fixture newFixture(String name) {
    return new NatsFixture(name, CONFIG);
  }

  /**
   * A file-backed stream named after the test capturing the subject of the same name, read by an
   * ordered push consumer of the official client that decodes by docs/brokers.md alone.
   */
  static final class NatsFixture implements Fixture {
    final String subject;
    final NatsSinkConfig config;
    final TcpProxy proxy = TcpProxy.start(NatsServer.HOST, NatsServer.PORT);
    final Connection connection;
    final Dispatcher dispatcher;
    final List<TransactionalMessage> received = new ArrayList<>();
    final List<MessageSink> sinks = new ArrayList<>();

    NatsFixture(String name, NatsSinkConfig config) {
      this.subject = name;
      this.config = config;
      this.connection = NatsServer.connect();
      try {
        connection
            .jetStreamManagement()
            .addStream(
                StreamConfiguration.builder()
                    .name(name)
                    .subjects(name)
                    .storageType(StorageType.File)
                    .duplicateWindow(Duration.ofMinutes(2))
                    .build());
        dispatcher = connection.createDispatcher();
        connection
            .jetStream()
            .subscribe(
                subject,
                dispatcher,
                this::record,
                true,
                PushSubscribeOptions.builder().ordered(true).build());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (JetStreamApiException e) {
        throw new IllegalStateException(e);
      }
    }

    private void record(Message message) {
      synchronized (received) {
        received.add(decode(message));
      }
    }

    /** By docs/brokers.md alone. */
    static TransactionalMessage decode(Message message) {
      Headers raw = message.getHeaders();
      Map<String, String> headers = new LinkedHashMap<>();
      for (String name : raw.keySet()) {
        if (!name.startsWith("pledge-") && !name.startsWith("Nats-")) {
          headers.put(name, word(raw.getFirst(name)));
        }
      }
      return new TransactionalMessage(
          raw.getFirst("Nats-Msg-Id"),
          word(raw.getFirst("pledge-topic")),
          word(raw.getFirst("pledge-key")),
          new String(message.getData(), StandardCharsets.UTF_8),
          headers,
          raw.getFirst("pledge-gid"));
    }

    /** An RFC 2047 encoded word, =?UTF-8?B?...?=, decoded; any other value as it is. */
    static String word(String value) {
      if (value != null && value.startsWith("=?UTF-8?B?") && value.endsWith("?=")) {
        return new String(
            java.util.Base64.getDecoder().decode(value.substring(10, value.length() - 2)),
            StandardCharsets.UTF_8);
      }
      return value;
    }

    @Override
    public MessageSink openSink(int maxInFlight) {
      MessageSink sink =
          new NatsSinkProvider(config.withMaxInFlight(maxInFlight))
              .open(URI.create("nats://" + proxy.host() + ":" + proxy.port() + "/" + subject));
      sinks.add(sink);
      return sink;
    }

    @Override
    public List<TransactionalMessage> received() {
      synchronized (received) {
        return List.copyOf(received);
      }
    }

    @Override
    public int maxPayloadBytes() {
      return config.maxPayloadBytes();
    }

    @Override
    public void stall() {
      proxy.stall();
    }

    @Override
    public void resume() {
      proxy.resume();
    }

    @Override
    public void cut() {
      proxy.cut();
    }

    @Override
    public void restore() {
      proxy.restore();
    }

    @Override
    public void close() {
      sinks.forEach(MessageSink::close);
      proxy.close();
      try {
        connection.jetStreamManagement().deleteStream(subject);
        connection.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (JetStreamApiException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
