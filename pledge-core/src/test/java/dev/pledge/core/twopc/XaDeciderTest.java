package dev.pledge.core.twopc;

import static dev.pledge.core.Op.PREPARE;
import static dev.pledge.core.engine.Specs.gid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Mode;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Driver;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Specs;
import dev.pledge.core.engine.Transition;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The xa decider: every behaviour of {@link TwoPcDeciderTest}, run again in mode xa (the inherited
 * tests), and what makes xa a mode of its own.
 */
public class XaDeciderTest extends TwoPcDeciderTest {

  @Override
  Mode mode() {
    return Mode.XA;
  }

  @Test
  public void xaTable_hasTwoPcsRows_underItsOwnMode() {
    List<Transition> xa = TwoPcDecider.XA_TABLE.rows();
    List<Transition> twoPc = TwoPcDecider.TABLE.rows();
    assertThat(TwoPcDecider.XA_TABLE.mode()).isEqualTo(Mode.XA);
    assertThat(xa)
        .hasSameSizeAs(twoPc)
        .allSatisfy(row -> assertThat(row.mode()).isEqualTo(Mode.XA));
    for (int i = 0; i < xa.size(); i++) {
      Transition a = xa.get(i);
      Transition b = twoPc.get(i);
      assertThat(new Transition(Mode.TWO_PC, a.from(), a.trigger(), a.to(), a.action()))
          .isEqualTo(b);
    }
  }

  @Test
  public void xaBranchCalls_carryModeXa_soTheParticipantPreparesADatabaseTransaction() {
    TransactionSpec spec =
        new TransactionSpec(
            gid(),
            Mode.XA,
            null,
            List.of(Specs.branch(Mode.XA, "inventory"), Specs.branch(Mode.XA, "payment")),
            null,
            null);
    Driver run = Driver.start(spec);
    assertThat(run.tx().mode()).isEqualTo(Mode.XA);
    assertThat(run.last().effects())
        .extracting(effect -> ((Effect.CallOp) effect).mode())
        .containsExactly(Mode.XA, Mode.XA);
    assertThat(run.last().effects())
        .containsExactly(run.call("inventory", PREPARE, 1), run.call("payment", PREPARE, 1));
  }
}
