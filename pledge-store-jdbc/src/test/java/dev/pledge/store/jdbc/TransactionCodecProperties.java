package dev.pledge.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.Mode;
import dev.pledge.core.Transaction;
import dev.pledge.testkit.sim.SimOptions;
import dev.pledge.testkit.sim.Simulator;
import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/**
 * The codec loses nothing: every version of every transaction the simulator writes, in every mode
 * and status (branches, DAG steps, messages with deliveries, flags, in-flight and waiting ops),
 * decodes to an equal record, and encoding is stable.
 */
class TransactionCodecProperties {
  private final TransactionCodec codec = new TransactionCodec();

  @Property(tries = 300)
  void everyLoggedVersion_roundTrips(
      @ForAll Mode mode, @ForAll @LongRange(min = 1, max = 1_000_000) long seed) {
    List<Transaction> written = new Simulator(SimOptions.standard(mode)).run(seed).written();
    assertThat(written).isNotEmpty();
    for (Transaction tx : written) {
      String json = codec.encode(tx);
      Transaction back = codec.decode(json);

      assertThat(back).isEqualTo(tx);
      assertThat(codec.encode(back)).isEqualTo(json);
    }
  }

  @Example
  void aDocumentFromElsewhere_isRefusedNamingTheField() {
    assertThatThrownBy(() -> codec.decode("{\"format\":1,\"gid\":\"g\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mode");
    assertThatThrownBy(() -> codec.decode("{\"format\":2}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("format 2");
    assertThatThrownBy(() -> codec.decode("not json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not JSON");
  }
}
