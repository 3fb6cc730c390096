package dev.pledge.core.engine;

import static dev.pledge.core.Op.ACTION;
import static dev.pledge.core.Op.CANCEL;
import static dev.pledge.core.Op.PREPARE;
import static dev.pledge.core.Op.ROLLBACK;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Specs.T0;
import static dev.pledge.core.engine.Specs.gid;
import static dev.pledge.core.engine.Trigger.OP_SUCCEEDED;
import static dev.pledge.core.engine.Trigger.RECOVERED;
import static dev.pledge.core.engine.Trigger.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.FieldError;
import dev.pledge.core.InvalidSpecException;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.TransactionSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What holds for the engine and every mode's table, whatever the mode. */
public class EngineTest {

  @Test
  public void recovery_presumesAbortForUndecided2pcAndTcc() {
    Driver tcc = Driver.start(Specs.tcc(gid()));
    tcc.on(new Event.BranchRegistered(Specs.tccBranch("b1")));
    Decision d = tcc.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(tcc.row(BEGUN, RECOVERED));
    assertThat(d.effects()).containsExactly(tcc.call("b1", CANCEL, 1));
    assertThat(tcc.status()).isEqualTo(ABORTING);

    Driver twoPc = Driver.start(Specs.twoPc(gid(), "b1", "b2"));
    twoPc.succeed("b1", PREPARE);
    twoPc.succeed("b2", PREPARE);
    twoPc.on(new Event.Recovered());
    assertThat(twoPc.status()).as("a logged commit is not undone").isEqualTo(Status.COMMITTING);
    Driver undecided = Driver.start(Specs.twoPc(gid(), "b1", "b2"));
    undecided.succeed("b1", PREPARE);
    d = undecided.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(undecided.row(BEGUN, RECOVERED));
    assertThat(d.effects())
        .containsExactly(undecided.call("b1", ROLLBACK, 1), undecided.call("b2", ROLLBACK, 1));
    assertThat(undecided.status()).isEqualTo(ABORTING);

    assertThat(Arrays.stream(Mode.values()).filter(Mode::presumesAbort))
        .containsExactly(Mode.TCC, Mode.TWO_PC, Mode.XA, Mode.THREE_PC);
  }

  @Test
  public void recovery_resumesSagaAndMsgWhereTheyWere() {
    Driver saga = Driver.start(Specs.saga(gid(), "s1"));
    Decision d = saga.on(new Event.Recovered());
    assertThat(saga.status()).isEqualTo(BEGUN);
    assertThat(d.effects()).containsExactly(saga.call("s1", ACTION, 2));

    Driver msg = Driver.start(Specs.msg(gid(), Specs.message("orders", "k", "m")));
    msg.on(new Event.Recovered());
    assertThat(msg.status()).isEqualTo(PREPARED);
  }

  @Test
  public void tables_oneForEveryModeInModeOrder_theDecidersOwn() {
    Engine engine = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);
    List<Mode> modes = new ArrayList<>();
    for (TransitionTable table : Engine.tables()) {
      modes.add(table.mode());
      assertThat(engine.decider(table.mode()).table()).isSameAs(table);
      for (Transition row : table.rows()) {
        assertThat(row.mode()).isEqualTo(table.mode());
      }
    }
    assertThat(modes).containsExactly(Mode.values());
  }

  @Test
  public void tables_startOnceAndNeverLeaveAFinalStatusOrUndoADecision() {
    for (TransitionTable table : Engine.tables()) {
      assertThat(table.rows().stream().filter(row -> row.from() == null))
          .singleElement()
          .satisfies(row -> assertThat(row.trigger()).isEqualTo(STARTED));
      for (Transition row : table.rows()) {
        if (row.from() == null) {
          continue;
        }
        if (row.from().isFinal()) {
          assertThat(row.to()).as(row.toString()).isEqualTo(row.from());
        }
        if (row.from().direction() != Status.Direction.UNDECIDED) {
          assertThat(row.to().direction()).as(row.toString()).isEqualTo(row.from().direction());
        }
      }
    }
  }

  @Test
  public void missingRow_isAProgrammerError_namingBothEnds() {
    TransitionTable table = Engine.tables().get(2);
    assertThatThrownBy(() -> table.transition(COMMITTED, OP_SUCCEEDED))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("2pc has no transition from committed on op-succeeded");
    assertThatThrownBy(() -> table.transition(null, OP_SUCCEEDED))
        .hasMessage("2pc has no transition from [start] on op-succeeded");
  }

  @Test
  public void tableBuilder_refusesDuplicateRows_finalChanges_andReversedDecisions() {
    assertThatThrownBy(() ->
            TransitionTable.of(Mode.SAGA)
                .row(BEGUN, OP_SUCCEEDED, BEGUN, "a")
                .row(BEGUN, OP_SUCCEEDED, ABORTING, "b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("duplicate row saga: begun --op-succeeded--> begun / a");
    assertThatThrownBy(
            () -> TransitionTable.of(Mode.SAGA).row(COMMITTED, OP_SUCCEEDED, BEGUN, "reopen"))
        .hasMessage("saga: a final status cannot change, row from committed to begun");
    assertThatThrownBy(
            () -> TransitionTable.of(Mode.TCC).row(ABORTING, OP_SUCCEEDED, Status.COMMITTING, "x"))
        .hasMessage("tcc: a decision never changes, row from aborting to committing");
  }

  @Test
  public void mermaid_hasOneEdgePerRow_andEndsEveryFinalStatus() {
    TransitionTable table =
        TransitionTable.of(Mode.SAGA)
            .row(null, STARTED, BEGUN, "start")
            .row(BEGUN, OP_SUCCEEDED, BEGUN, "next")
            .row(BEGUN, Trigger.ALL_SUCCEEDED, COMMITTED, "done")
            .build();
    assertThat(table.toMermaid())
        .isEqualTo(
            """
            stateDiagram-v2
                [*] --> begun : started
                begun --> begun : op-succeeded
                begun --> committed : all-succeeded
                committed --> [*]
            """);
  }

  @Test
  public void engineStart_rejectsAnInvalidSpecWhole() {
    Engine engine = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);
    TransactionSpec spec = new TransactionSpec(gid(), Mode.TWO_PC, null, null, null, null);
    assertThatThrownBy(() -> engine.start(spec, T0))
        .isInstanceOfSatisfying(
            InvalidSpecException.class,
            e ->
                assertThat(e.errors())
                    .containsExactly(
                        new FieldError("branches", "a 2pc transaction needs at least one branch")));
  }

  @Test
  public void engine_needsADeciderForEveryMode() {
    assertThatThrownBy(() -> new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no decider for mode saga");
  }

  @Test
  public void deadline_isStartPlusTheTimeout_orTheDefault() {
    Driver run = Driver.start(Specs.saga(gid(), "s1"));
    assertThat(run.tx().deadline()).isEqualTo(T0.plus(Limits.DEFAULT.defaultTimeout()));
    run = Driver.start(Specs.withTimeout(Specs.saga(gid(), "s1"), java.time.Duration.ofSeconds(5)));
    assertThat(run.tx().deadline()).isEqualTo(T0.plusSeconds(5));
    assertThat(run.tx().createdAt()).isEqualTo(T0);
    assertThat(run.tx().version()).isEqualTo(1);
  }
}
