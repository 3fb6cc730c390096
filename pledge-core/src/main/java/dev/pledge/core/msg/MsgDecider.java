package dev.pledge.core.msg;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Trigger.ABORT_REQUESTED;
import static dev.pledge.core.engine.Trigger.ALL_DELIVERED;
import static dev.pledge.core.engine.Trigger.CHECK_COMMITTED;
import static dev.pledge.core.engine.Trigger.CHECK_DUE;
import static dev.pledge.core.engine.Trigger.CHECK_PENDING;
import static dev.pledge.core.engine.Trigger.CHECK_ROLLED_BACK;
import static dev.pledge.core.engine.Trigger.COMMIT_REQUESTED;
import static dev.pledge.core.engine.Trigger.DELIVERED;
import static dev.pledge.core.engine.Trigger.KEY_TURN;
import static dev.pledge.core.engine.Trigger.OPERATOR_RETRY;
import static dev.pledge.core.engine.Trigger.OP_RETRY;
import static dev.pledge.core.engine.Trigger.RECOVERED;
import static dev.pledge.core.engine.Trigger.REDRIVEN;
import static dev.pledge.core.engine.Trigger.RETRY_BOUND_REACHED;
import static dev.pledge.core.engine.Trigger.RETRY_DUE;
import static dev.pledge.core.engine.Trigger.STALE_ANSWER;
import static dev.pledge.core.engine.Trigger.STARTED;
import static dev.pledge.core.engine.Trigger.SUBSCRIBERS_RESOLVED;

import dev.pledge.core.Delivery;
import dev.pledge.core.Message;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decider;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Draft;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Slot;
import dev.pledge.core.engine.TransitionTable;
import dev.pledge.core.engine.Trigger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Two-phase transactional message. The producer prepares its messages (stored, invisible), runs its
 * local transaction (which writes a barrier row), then commits. If it never says, once the timeout
 * passes the coordinator asks the producer's check URL, whose answer is definitive because the SDK
 * writes a "rolled back" barrier row when none exists, blocking a late local commit.
 *
 * <p>After the commit decision is logged, the runtime resolves the topics' subscriptions; every
 * message then gets one delivery per subscription, retried until acknowledged. A delivery that
 * fails past the retry bound becomes a dead letter ({@link OpStatus#DEAD}): kept in the log, never
 * dropped, not sent again until an operator re-drives it.
 *
 * <p>Order per key, across transactions: a delivery of a message with a key waits, idle, until the
 * runtime tells it ({@link Event.KeyTurn}) that it heads its (subscription, key) queue, which the
 * log keeps in commit order (see {@link dev.pledge.core.spi.TransactionLog#heads}); only then is it
 * sent. It leaves the queue when acknowledged, or dead (a dead letter steps out of its key's
 * sequence, as in a broker's dead-letter queue, so one poison message does not hold its key up for
 * ever; re-driven, it joins the tail). Messages without a key are sent at once.
 */
public final class MsgDecider implements Decider {
  public static final TransitionTable TABLE =
      TransitionTable.of(Mode.MSG)
          .row(
              null,
              STARTED,
              PREPARED,
              "store the messages, invisible; check back once the timeout passes")
          .row(
              PREPARED,
              COMMIT_REQUESTED,
              COMMITTING,
              "log the commit decision, then resolve the topics' subscriptions")
          .row(PREPARED, ABORT_REQUESTED, ABORTED, "drop the messages: none was ever visible")
          .row(
              PREPARED,
              CHECK_DUE,
              PREPARED,
              "the timeout passed with no word: ask the producer's check URL")
          .row(PREPARED, RETRY_DUE, PREPARED, "ask the check URL again: its backoff passed")
          .row(
              PREPARED,
              CHECK_PENDING,
              PREPARED,
              "pending, unknown or unanswered: ask again after a capped, jittered backoff")
          .row(
              PREPARED,
              RETRY_BOUND_REACHED,
              PREPARED,
              "flag for an operator; keep asking at the cap")
          .row(
              PREPARED,
              CHECK_COMMITTED,
              COMMITTING,
              "the local transaction committed: log the commit decision")
          .row(
              PREPARED,
              CHECK_ROLLED_BACK,
              ABORTED,
              "the local transaction rolled back (or was blocked): drop the messages")
          .row(PREPARED, STALE_ANSWER, PREPARED, "ignore a duplicate or late answer")
          .row(PREPARED, RECOVERED, PREPARED, "re-send a check-back that was in flight")
          .row(PREPARED, OPERATOR_RETRY, PREPARED, "ask the check URL now")
          .row(
              COMMITTING,
              SUBSCRIBERS_RESOLVED,
              COMMITTED,
              "one delivery per message and subscription, queued by (subscription, key) in the"
                  + " same write; send those without a key")
          .row(COMMITTING, RECOVERED, COMMITTING, "resolve the subscriptions again")
          .row(COMMITTING, STALE_ANSWER, COMMITTING, "ignore a late check-back answer")
          .row(
              COMMITTED,
              DELIVERED,
              COMMITTED,
              "the delivery leaves its (subscription, key) queue; the next one there gets its turn")
          .row(
              COMMITTED,
              ALL_DELIVERED,
              COMMITTED,
              "none: every subscription acknowledged every message")
          .row(
              COMMITTED,
              OP_RETRY,
              COMMITTED,
              "not acknowledged in time: deliver again after a capped, jittered backoff, without end")
          .row(COMMITTED, RETRY_DUE, COMMITTED, "deliver again")
          .row(
              COMMITTED,
              RETRY_BOUND_REACHED,
              COMMITTED,
              "dead letter: stop sending it; kept, listed and re-driven by an operator")
          .row(COMMITTED, STALE_ANSWER, COMMITTED, "ignore a duplicate or late answer")
          .row(COMMITTED, RECOVERED, COMMITTED, "re-send every delivery that was in flight")
          .row(COMMITTED, OPERATOR_RETRY, COMMITTED, "deliver every waiting message now")
          .row(
              COMMITTED,
              REDRIVEN,
              COMMITTED,
              "an operator re-drives a dead letter: send it again with a fresh retry budget (with a"
                  + " key: at the tail of its queue)")
          .row(
              COMMITTED,
              KEY_TURN,
              COMMITTED,
              "the delivery heads its (subscription, key) queue: send it")
          .build();

  @Override
  public TransitionTable table() {
    return TABLE;
  }

  @Override
  public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
    List<Message> messages = new ArrayList<>();
    for (int i = 0; i < spec.messages().size(); i++) {
      MessageSpec m = spec.messages().get(i);
      messages.add(
          new Message(messageId(spec, i), m.topic(), m.key(), m.payload(), m.headers(), List.of()));
    }
    Transaction initial =
        new Transaction(
            spec.gid(),
            Mode.MSG,
            PREPARED,
            1,
            now,
            now,
            deadline,
            spec.checkUrl(),
            Progress.IDLE,
            List.of(),
            messages,
            null);
    Draft draft = Draft.creating(initial, now, policy, TABLE);
    draft.fireStart();
    return draft.finish();
  }

  /**
   * A message's id: its transaction's gid and its position, so a retried prepare yields the same
   * ids.
   */
  public static String messageId(TransactionSpec spec, int index) {
    return spec.gid().value() + "#" + (index + 1);
  }

  @Override
  public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
    Draft draft = new Draft(state, now, policy, TABLE);
    Status status = state.status();
    Slot.Check check = new Slot.Check();
    switch (event) {
      case Event.CommitRequested commit -> {
        if (status == COMMITTING || status == COMMITTED) {
          return draft.finish();
        }
        if (status != PREPARED) {
          return draft.reject("cannot commit: the transaction is " + status.label());
        }
        commit(draft, COMMIT_REQUESTED);
      }
      case Event.AbortRequested abort -> {
        if (status == ABORTED) {
          return draft.finish();
        }
        if (status != PREPARED) {
          return draft.reject("cannot abort: the transaction is " + status.label());
        }
        draft.fire(ABORT_REQUESTED);
        draft.abandon(List.of(check));
      }
      case Event.BranchRegistered b -> {
        return draft.reject("a msg transaction has messages, not branches");
      }
      case Event.CheckCompleted answer -> {
        if (status == ABORTED) {
          return draft.finish();
        }
        if (status != PREPARED) {
          draft.fire(STALE_ANSWER);
        } else {
          switch (draft.classify(check, answer.attempt(), answer.outcome())) {
            case STALE -> draft.fire(STALE_ANSWER);
            case SUCCEEDED -> {
              draft.set(check, draft.progress(check).succeeded());
              commit(draft, CHECK_COMMITTED);
            }
            case FAILED -> {
              draft.set(check, draft.progress(check).failed(Draft.reason(answer.outcome())));
              draft.fire(CHECK_ROLLED_BACK);
            }
            case RETRY -> draft.retryLater(check, Draft.reason(answer.outcome()), CHECK_PENDING);
          }
        }
      }
      case Event.SubscribersResolved resolved -> {
        if (status == COMMITTING) {
          fanOut(draft, resolved.subscriptionsByTopic());
        } else if (status == COMMITTED) {
          draft.fire(STALE_ANSWER);
        }
      }
      case Event.DeliveryCompleted done -> onDelivery(draft, done);
      case Event.Tick tick -> {
        if (status == PREPARED) {
          Progress progress = draft.progress(check);
          if (progress.status() == OpStatus.IDLE && !now.isBefore(state.deadline())) {
            draft.send(check);
            draft.fire(CHECK_DUE);
          } else {
            draft.onDue(List.of(check), CHECK_PENDING);
          }
        } else if (status == COMMITTED) {
          draft.onDue(draft.deliverySlots(), OP_RETRY);
        }
      }
      case Event.Recovered recovered -> {
        switch (status) {
          case PREPARED -> resendNow(draft, List.of(check), RECOVERED);
          case COMMITTING -> {
            draft.fire(RECOVERED);
            draft.effect(new Effect.ResolveSubscribers(state.gid(), topics(state)));
          }
          case COMMITTED -> {
            if (state.hasPendingDeliveries()) {
              resendNow(draft, draft.deliverySlots(), RECOVERED);
            }
          }
          case BEGUN, ABORTING, ABORTED -> {}
        }
      }
      case Event.RetryNow retry -> {
        if (status == PREPARED) {
          draft.fire(OPERATOR_RETRY);
          if (draft.progress(check).status() == OpStatus.IDLE) {
            draft.send(check);
          } else {
            draft.resendActive(List.of(check));
          }
        } else if (status == COMMITTED && state.hasPendingDeliveries()) {
          resendNow(draft, draft.deliverySlots(), OPERATOR_RETRY);
        }
      }
      case Event.Redrive redrive -> {
        Message message = state.message(redrive.messageId());
        Delivery delivery = message == null ? null : message.delivery(redrive.subscription());
        if (delivery == null) {
          return draft.reject(
              "no delivery of " + redrive.messageId() + " to " + redrive.subscription());
        }
        if (delivery.progress().status() != OpStatus.DEAD) {
          return draft.reject(
              "the delivery of "
                  + redrive.messageId()
                  + " to "
                  + redrive.subscription()
                  + " is not dead: it is "
                  + delivery.progress().status().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        Slot slot = new Slot.MessageDelivery(redrive.messageId(), redrive.subscription());
        draft.set(slot, delivery.progress().redriven());
        draft.fire(REDRIVEN);
        sendReadyDeliveries(draft);
      }
      case Event.KeyTurn turn -> {
        Message message = state.message(turn.messageId());
        Delivery delivery = message == null ? null : message.delivery(turn.subscription());
        if (status == COMMITTED
            && delivery != null
            && message.key() != null
            && delivery.progress().status() == OpStatus.IDLE) {
          draft.send(new Slot.MessageDelivery(turn.messageId(), turn.subscription()));
          draft.fire(KEY_TURN);
        }
      }
      case Event.OpCompleted done -> {
        if (!status.isFinal() || status == COMMITTED) {
          draft.fire(STALE_ANSWER);
        }
      }
    }
    return draft.finish();
  }

  private static void resendNow(Draft draft, List<? extends Slot> slots, Trigger trigger) {
    draft.fire(trigger);
    draft.resendActive(slots);
  }

  private static void commit(Draft draft, Trigger trigger) {
    draft.fire(trigger);
    draft.abandon(List.of(new Slot.Check()));
    draft.effect(new Effect.ResolveSubscribers(draft.state().gid(), topics(draft.state())));
  }

  private static Set<String> topics(Transaction state) {
    Set<String> topics = new LinkedHashSet<>();
    for (Message message : state.messages()) {
      topics.add(message.topic());
    }
    return topics;
  }

  private static void fanOut(Draft draft, Map<String, List<String>> subscriptionsByTopic) {
    List<Message> messages = new ArrayList<>();
    for (Message message : draft.state().messages()) {
      List<Delivery> deliveries = new ArrayList<>();
      for (String subscription : subscriptionsByTopic.getOrDefault(message.topic(), List.of())) {
        deliveries.add(new Delivery(subscription, Progress.IDLE));
      }
      messages.add(message.withDeliveries(deliveries));
    }
    draft.change(draft.state().withMessages(messages));
    draft.fire(SUBSCRIBERS_RESOLVED);
    sendReadyDeliveries(draft);
  }

  private static void onDelivery(Draft draft, Event.DeliveryCompleted done) {
    Transaction state = draft.state();
    if (state.status() != COMMITTED) {
      if (!state.status().isFinal()) {
        draft.fire(STALE_ANSWER);
      }
      return;
    }
    Message message = state.message(done.messageId());
    if (message == null || message.delivery(done.subscription()) == null) {
      draft.fire(STALE_ANSWER);
      return;
    }
    Slot slot = new Slot.MessageDelivery(done.messageId(), done.subscription());
    switch (draft.classify(slot, done.attempt(), done.outcome())) {
      case STALE -> draft.fire(STALE_ANSWER);
      case SUCCEEDED -> {
        draft.set(slot, draft.progress(slot).succeeded());
        draft.fire(DELIVERED);
        if (!draft.state().hasPendingDeliveries()) {
          draft.fire(ALL_DELIVERED);
        }
      }
      case RETRY, FAILED -> draft.retryLater(slot, Draft.reason(done.outcome()), OP_RETRY);
    }
  }

  /**
   * Sends every idle delivery of a message without a key. Those with a key wait for their turn in
   * their (subscription, key) queue ({@link Event.KeyTurn}).
   */
  private static void sendReadyDeliveries(Draft draft) {
    for (Message message : draft.state().messages()) {
      if (message.key() != null) {
        continue;
      }
      for (Delivery delivery : message.deliveries()) {
        if (delivery.progress().status() == OpStatus.IDLE) {
          draft.send(new Slot.MessageDelivery(message.messageId(), delivery.subscription()));
        }
      }
    }
  }
}
