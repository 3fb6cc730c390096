package dev.pledge.core.engine;

import dev.pledge.core.FieldError;
import dev.pledge.core.InvalidSpecException;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.lra.LraDecider;
import dev.pledge.core.msg.MsgDecider;
import dev.pledge.core.saga.SagaDecider;
import dev.pledge.core.tcc.TccDecider;
import dev.pledge.core.threepc.ThreePcDecider;
import dev.pledge.core.twopc.TwoPcDecider;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The deciders of every mode behind one door, with the limits and retry policy they run under.
 * Pure, like the deciders: it holds configuration, never state.
 */
public final class Engine {
  private final Limits limits;
  private final RetryPolicy policy;
  private final Map<Mode, Decider> deciders;

  public Engine(Limits limits, RetryPolicy policy) {
    this(limits, policy, standardDeciders(limits));
  }

  /** An engine with the given deciders (the simulator's planted-bug tests swap one). */
  public Engine(Limits limits, RetryPolicy policy, Map<Mode, Decider> deciders) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.deciders = Map.copyOf(deciders);
    for (Mode mode : Mode.values()) {
      if (!this.deciders.containsKey(mode)) {
        throw new IllegalArgumentException("no decider for mode " + mode.code());
      }
    }
  }

  public static Map<Mode, Decider> standardDeciders(Limits limits) {
    Map<Mode, Decider> deciders = new EnumMap<>(Mode.class);
    deciders.put(Mode.SAGA, new SagaDecider());
    deciders.put(Mode.TCC, new TccDecider(limits));
    deciders.put(Mode.TWO_PC, new TwoPcDecider());
    deciders.put(Mode.XA, TwoPcDecider.xa());
    deciders.put(Mode.THREE_PC, new ThreePcDecider());
    deciders.put(Mode.MSG, new MsgDecider());
    deciders.put(Mode.LRA, new LraDecider(limits));
    return deciders;
  }

  /** Every mode's transition table, in mode order. */
  public static List<TransitionTable> tables() {
    return List.of(
        SagaDecider.TABLE,
        TccDecider.TABLE,
        TwoPcDecider.TABLE,
        TwoPcDecider.XA_TABLE,
        ThreePcDecider.TABLE,
        MsgDecider.TABLE,
        LraDecider.TABLE);
  }

  public Limits limits() {
    return limits;
  }

  public RetryPolicy policy() {
    return policy;
  }

  public Decider decider(Mode mode) {
    return deciders.get(mode);
  }

  /**
   * The first version of a new transaction and the calls it starts with.
   *
   * @throws InvalidSpecException listing every broken rule, when the spec is not acceptable
   */
  public Decision start(TransactionSpec spec, Instant now) {
    List<FieldError> errors = spec.validate(limits);
    if (!errors.isEmpty()) {
      throw new InvalidSpecException(errors);
    }
    return deciders.get(spec.mode()).start(spec, now, now.plus(spec.timeoutOr(limits)), policy);
  }

  public Decision decide(Transaction state, Event event, Instant now) {
    return deciders.get(state.mode()).decide(state, event, now, policy);
  }
}
