package dev.pledge.broker.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KafkaTargetTest {
  @Test
  void parse_readsHostPortAndTopic_withTheDefaultPort() {
    assertThat(KafkaTarget.parse(URI.create("kafka://broker-1:9093/orders.v1")))
        .isEqualTo(new KafkaTarget("broker-1", 9093, "orders.v1"));
    assertThat(KafkaTarget.parse(URI.create("kafka://b/t")).port()).isEqualTo(9092);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "amqp://b:9092/t | scheme must be kafka",
        "kafka://b:9092 | topic is missing",
        "kafka://b:9092/ | topic is missing",
        "kafka://b:9092/a/b | one path segment",
        "kafka://b:9092/t?acks=1 | no query",
        "kafka://u:p@b:9092/t | user information",
        "kafka://b:9092/a%20b | topic must match",
      })
  void parse_refusesBadTargets_sayingWhy(String uri, String why) {
    assertThatThrownBy(() -> new KafkaSinkProvider().validate(URI.create(uri)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(why);
  }
}
