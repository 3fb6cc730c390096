package dev.pledge.broker.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AmqpTargetTest {
  @Test
  void parse_readsEveryPart_andDecodesTheVirtualHost() {
    AmqpTarget target =
        AmqpTarget.parse(URI.create("amqp://app:s%3Acret@mq.local:5673/%2F?exchange=orders"));

    assertThat(target).isEqualTo(new AmqpTarget("app", "s:cret", "mq.local", 5673, "/", "orders"));
    assertThat(target.toString()).doesNotContain("s:cret").contains("***");
    assertThat(AmqpTarget.parse(target.toUri())).isEqualTo(target);
  }

  @Test
  void parse_defaultsThePort() {
    assertThat(AmqpTarget.parse(URI.create("amqp://u:p@h/shop?exchange=e")).port()).isEqualTo(5672);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "http://u:p@h:5672/%2F?exchange=e | scheme must be amqp",
        "amqp://h:5672/%2F?exchange=e | user and password are missing",
        "amqp://u:p@h:5672?exchange=e | virtual host is missing",
        "amqp://u:p@h:5672/a/b?exchange=e | one path segment",
        "amqp://u:p@h:5672/%2F | parameter exchange is missing",
        "amqp://u:p@h:5672/%2F?exchange= | parameter exchange is missing",
        "amqp://u:p@h:5672/%2F?exchange=e&queue=q | unknown parameter \"queue\"",
        "amqp://u:p@h:5672/%2F?exchange=a%20b | exchange must match",
        "amqp://u:p@h:5672/%2F?exchange=amq.topic | must not start with amq.",
        "amqp://u:p@h:70000/%2F?exchange=e | port must be in",
      })
  void parse_refusesBadTargets_sayingWhy(String uri, String why) {
    assertThatThrownBy(() -> new RabbitMqSinkProvider().validate(URI.create(uri)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(why)
        .hasMessageNotContaining(":p@");
  }
}
