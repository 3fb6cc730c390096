package dev.pledge.broker.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.contract.MessageSinkContract;
import dev.pledge.testkit.net.TcpProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The RabbitMQ sink against the contract, on the real broker, through a fault-injecting proxy. */
class RabbitMqSinkContractTest extends MessageSinkContract {
  static final int MAX_PAYLOAD_BYTES = 256 * 1024;

  static final RabbitMqSinkConfig CONFIG =
      RabbitMqSinkConfig.DEFAULT
          .withAckTimeout(Duration.ofSeconds(5))
          .withMaxPayloadBytes(MAX_PAYLOAD_BYTES);

  @Override
  protected Fixture newFixture(String name) {
    return new RabbitFixture(name, CONFIG);
  }

  /**
   * An exchange named after the test and a queue bound to it with {@code #}, read by a plain
   * consumer of the official client that decodes each delivery by the wire contract of
   * docs/brokers.md, independently of the sink's code.
   */
  static final class RabbitFixture implements Fixture {
    final String exchange;
    final TcpProxy proxy = TcpProxy.start(RabbitMqBroker.HOST, RabbitMqBroker.PORT);
    final RabbitMqSinkConfig config;
    final Connection connection;
    final Channel channel;
    final List<TransactionalMessage> received = new ArrayList<>();
    final List<AMQP.BasicProperties> properties = new ArrayList<>();
    final List<MessageSink> sinks = new ArrayList<>();

    RabbitFixture(String name, RabbitMqSinkConfig config) {
      this.exchange = name;
      this.config = config;
      this.connection = RabbitMqBroker.connect("contract consumer " + name);
      try {
        channel = connection.createChannel();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true);
        channel.queueDeclare(exchange, false, true, true, null);
        channel.queueBind(exchange, exchange, "#");
        channel.basicConsume(
            exchange,
            true,
            new DefaultConsumer(channel) {
              @Override
              public void handleDelivery(
                  String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
                synchronized (received) {
                  received.add(decode(envelope, props, body));
                  properties.add(props);
                }
              }
            });
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** By docs/brokers.md alone: message_id, routing key = topic, pledge-* headers. */
    static TransactionalMessage decode(Envelope envelope, AMQP.BasicProperties props, byte[] body) {
      Map<String, String> headers = new LinkedHashMap<>();
      String key = null;
      String gid = null;
      String topic = null;
      for (Map.Entry<String, Object> h : props.getHeaders().entrySet()) {
        String value = h.getValue().toString();
        switch (h.getKey()) {
          case "pledge-topic" -> topic = value;
          case "pledge-key" -> key = value;
          case "pledge-gid" -> gid = value;
          default -> headers.put(h.getKey(), value);
        }
      }
      if (!envelope.getRoutingKey().equals(topic)) {
        throw new AssertionError(
            "routing key " + envelope.getRoutingKey() + " is not the topic " + topic);
      }
      return new TransactionalMessage(
          props.getMessageId(), topic, key, new String(body, StandardCharsets.UTF_8), headers, gid);
    }

    @Override
    public MessageSink openSink(int maxInFlight) {
      MessageSink sink =
          new RabbitMqSinkProvider(config.withMaxInFlight(maxInFlight))
              .open(RabbitMqBroker.target(proxy.host(), proxy.port(), exchange));
      sinks.add(sink);
      return sink;
    }

    @Override
    public List<TransactionalMessage> received() {
      synchronized (received) {
        return List.copyOf(received);
      }
    }

    List<AMQP.BasicProperties> properties() {
      synchronized (received) {
        return List.copyOf(properties);
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
        channel.exchangeDelete(exchange);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        connection.abort();
      }
    }
  }
}
