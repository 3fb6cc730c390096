package dev.pledge.broker.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.TransactionalMessage;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NatsTargetTest {
  @Test
  void parse_readsHostPortAndSubject_withTheDefaultPort() {
    assertThat(NatsTarget.parse(URI.create("nats://n1:4223/shop.orders.placed")))
        .isEqualTo(new NatsTarget("n1", 4223, "shop.orders.placed"));
    assertThat(NatsTarget.parse(URI.create("nats://n1/s")).port()).isEqualTo(4222);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "kafka://n:4222/s | scheme must be nats",
        "nats://n:4222 | subject is missing",
        "nats://n:4222/a/b | one path segment",
        "nats://n:4222/orders.* | no wildcards",
        "nats://n:4222/orders.%3E | no wildcards",
        "nats://n:4222/orders..placed | no wildcards",
        "nats://n:4222/s?x=1 | no query",
      })
  void parse_refusesBadTargets_sayingWhy(String uri, String why) {
    assertThatThrownBy(() -> new NatsSinkProvider().validate(URI.create(uri)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(why);
  }

  @Test
  void headers_roundTripNonAsciiValues_asEncodedWords() {
    TransactionalMessage message =
        new TransactionalMessage(
            "m#1",
            "commande-passée",
            "clé",
            "{}",
            Map.of("note", "=?looks encoded", "a", "b"),
            "g");

    TransactionalMessage back = NatsHeaders.decode(NatsHeaders.headers(message), "{}".getBytes());

    assertThat(back).isEqualTo(message);
    assertThat(NatsHeaders.headers(message).getFirst("pledge-key"))
        .isEqualTo("=?UTF-8?B?Y2zDqQ==?=");
  }
}
