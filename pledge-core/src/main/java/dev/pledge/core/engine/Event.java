package dev.pledge.core.engine;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Something that happened to a global transaction, fed to its decider. */
public sealed interface Event {

  /** A participant answered an op (or the transport gave up on it). */
  record OpCompleted(String branchId, Op op, int attempt, Outcome outcome) implements Event {
    public OpCompleted {
      Objects.requireNonNull(branchId, "branchId");
      Objects.requireNonNull(op, "op");
      Objects.requireNonNull(outcome, "outcome");
    }
  }

  /**
   * The producer answered check-back: {@code Succeeded} is "committed", {@code Failed}
   * "rolled_back", {@code Pending} "pending", {@code Unknown} anything else.
   */
  record CheckCompleted(int attempt, Outcome outcome) implements Event {
    public CheckCompleted {
      Objects.requireNonNull(outcome, "outcome");
    }
  }

  /** A subscription acknowledged a delivery ({@code Succeeded}) or did not (anything else). */
  record DeliveryCompleted(String messageId, String subscription, int attempt, Outcome outcome)
      implements Event {
    public DeliveryCompleted {
      Objects.requireNonNull(messageId, "messageId");
      Objects.requireNonNull(subscription, "subscription");
      Objects.requireNonNull(outcome, "outcome");
    }
  }

  /**
   * The runtime's answer to {@code ResolveSubscribers}: the subscriptions of each topic, in order.
   */
  record SubscribersResolved(Map<String, List<String>> subscriptionsByTopic) implements Event {
    public SubscribersResolved {
      subscriptionsByTopic = Map.copyOf(subscriptionsByTopic);
    }
  }

  /** tcc: the initiator registers a branch, then calls its try itself. */
  record BranchRegistered(BranchSpec branch) implements Event {
    public BranchRegistered {
      Objects.requireNonNull(branch, "branch");
    }
  }

  /** tcc and msg: the initiator decided to commit. */
  record CommitRequested() implements Event {}

  /** tcc and msg: the initiator decided to abort. */
  record AbortRequested() implements Event {}

  /** Time passed: whatever is due at {@code now} happens. */
  record Tick() implements Event {}

  /**
   * A coordinator (re)took ownership with nothing but the logged state: re-send what was in flight.
   */
  record Recovered() implements Event {}

  /** An operator asked for the next attempt of everything waiting, now. */
  record RetryNow() implements Event {}

  /**
   * An operator re-drives a dead letter: the delivery of {@code messageId} to {@code subscription}
   * is sent again, with a fresh retry budget. Only a dead delivery of a msg transaction can be.
   */
  record Redrive(String messageId, String subscription) implements Event {
    public Redrive {
      Objects.requireNonNull(messageId, "messageId");
      Objects.requireNonNull(subscription, "subscription");
    }
  }

  /**
   * msg: the delivery of {@code messageId} to {@code subscription}, whose message has a key, heads
   * its (subscription, key) queue in the log: send it. The runtime feeds it after reading the
   * queue's head from the log; a turn for a delivery that is not idle any more changes nothing.
   */
  record KeyTurn(String messageId, String subscription) implements Event {
    public KeyTurn {
      Objects.requireNonNull(messageId, "messageId");
      Objects.requireNonNull(subscription, "subscription");
    }
  }
}
