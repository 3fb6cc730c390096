package dev.pledge.testkit.sim;

import dev.pledge.core.Branch;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decider;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.TransitionTable;
import dev.pledge.core.msg.MsgDecider;
import dev.pledge.core.saga.SagaDecider;
import dev.pledge.core.twopc.TwoPcDecider;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Deliberately wrong deciders, each wrapping a real one, that the simulator must catch. */
final class PlantedBugs {
  private PlantedBugs() {}

  /** 2pc that takes the first successful prepare as a yes from every branch. */
  static final class CommitBeforeAllPrepared implements Decider {
    private final TwoPcDecider real = new TwoPcDecider();

    @Override
    public TransitionTable table() {
      return real.table();
    }

    @Override
    public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
      return real.start(spec, now, deadline, policy);
    }

    @Override
    public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
      if (state.status() == Status.BEGUN
          && event instanceof Event.OpCompleted done
          && done.op() == Op.PREPARE
          && done.outcome() instanceof dev.pledge.core.Outcome.Succeeded) {
        Transaction rigged = state;
        for (Branch branch : state.branches()) {
          if (!branch.branchId().equals(done.branchId())
              && branch.op(Op.PREPARE).status().isActive()) {
            rigged =
                rigged.withBranch(
                    branch.branchId(), b -> b.with(Op.PREPARE, b.op(Op.PREPARE).succeeded()));
          }
        }
        return real.decide(rigged, event, now, policy);
      }
      return real.decide(state, event, now, policy);
    }
  }

  /** Saga that never compensates its first step: it marks it skipped and drops the call. */
  static final class SkipFirstCompensation implements Decider {
    private final SagaDecider real = new SagaDecider();

    @Override
    public TransitionTable table() {
      return real.table();
    }

    @Override
    public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
      return real.start(spec, now, deadline, policy);
    }

    @Override
    public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
      Decision decision = real.decide(state, event, now, policy);
      Transaction next = decision.next();
      if (next.status() != Status.ABORTING || next.branches().isEmpty()) {
        return decision;
      }
      String first = next.branches().get(0).branchId();
      OpStatus compensation = next.branch(first).op(Op.COMPENSATE).status();
      if (compensation == OpStatus.SUCCEEDED || compensation == OpStatus.SKIPPED) {
        return decision;
      }
      List<Effect> effects = new ArrayList<>();
      for (Effect effect : decision.effects()) {
        if (!(effect instanceof Effect.CallOp call
            && call.branchId().equals(first)
            && call.op() == Op.COMPENSATE)) {
          effects.add(effect);
        }
      }
      Transaction rigged =
          next.withBranch(first, b -> b.with(Op.COMPENSATE, b.op(Op.COMPENSATE).skipped()));
      return new Decision(rigged, effects, decision.fired(), decision.rejection());
    }
  }

  /** msg that, when its timeout passes, publishes instead of asking the producer. */
  static final class DeliverWithoutCommit implements Decider {
    private final MsgDecider real = new MsgDecider();

    @Override
    public TransitionTable table() {
      return real.table();
    }

    @Override
    public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
      return real.start(spec, now, deadline, policy);
    }

    @Override
    public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
      if (state.status() == Status.PREPARED
          && event instanceof Event.Tick
          && !now.isBefore(state.deadline())) {
        return real.decide(state, new Event.CommitRequested(), now, policy);
      }
      return real.decide(state, event, now, policy);
    }
  }
}
