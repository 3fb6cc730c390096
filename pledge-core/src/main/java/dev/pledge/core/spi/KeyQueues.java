package dev.pledge.core.spi;

import dev.pledge.core.Delivery;
import dev.pledge.core.Message;
import dev.pledge.core.Mode;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.spi.TransactionLog.QueueKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a transaction's state means for the (subscription, key) queues the log keeps (see {@link
 * TransactionLog#heads}): shared by every log implementation and by the runtime.
 */
public final class KeyQueues {
  private KeyQueues() {}

  /** Where one keyed delivery of a msg transaction stands, as its queue sees it. */
  public enum Place {
    /** Owed and not sent yet: queued (at the tail, when not queued already). */
    QUEUED,
    /** Owed and sent (in flight or waiting to be sent again): queued and started. */
    STARTED,
    /** Acknowledged or dead: out of its queue. */
    OUT
  }

  /** One keyed delivery of a msg transaction. */
  public record Entry(QueueKey queue, String messageId, Place place) {}

  /**
   * The keyed deliveries of {@code tx}, in the order of its messages (then subscriptions): what a
   * write of {@code tx} does to the queues. Empty for any mode but msg.
   */
  public static List<Entry> entries(Transaction tx) {
    if (tx.mode() != Mode.MSG) {
      return List.of();
    }
    List<Entry> entries = new ArrayList<>();
    for (Message message : tx.messages()) {
      if (message.key() == null) {
        continue;
      }
      for (Delivery delivery : message.deliveries()) {
        OpStatus status = delivery.progress().status();
        Place place =
            status.isDone() ? Place.OUT : status.isActive() ? Place.STARTED : Place.QUEUED;
        entries.add(
            new Entry(
                new QueueKey(delivery.subscription(), message.key()), message.messageId(), place));
      }
    }
    return entries;
  }

  /**
   * The queues whose head may have changed, or may be waiting for a turn, after {@code before}
   * became {@code next}: those of a keyed delivery that left its queue or joined it (idle) in this
   * change, and, when {@code everyWaiting}, those of every keyed delivery still waiting idle (after
   * a recovery or a wake-up). Empty unless {@code next} is a committed msg transaction.
   */
  public static Set<QueueKey> toCheck(Transaction before, Transaction next, boolean everyWaiting) {
    if (next.mode() != Mode.MSG || next.status() != Status.COMMITTED) {
      return Set.of();
    }
    Set<QueueKey> queues = new LinkedHashSet<>();
    for (Message message : next.messages()) {
      if (message.key() == null) {
        continue;
      }
      Message had = before == null ? null : before.message(message.messageId());
      for (Delivery delivery : message.deliveries()) {
        OpStatus now = delivery.progress().status();
        Delivery was = had == null ? null : had.delivery(delivery.subscription());
        boolean changed = was == null || was.progress().status() != now;
        if ((now == OpStatus.IDLE && (everyWaiting || changed)) || (now.isDone() && changed)) {
          queues.add(new QueueKey(delivery.subscription(), message.key()));
        }
      }
    }
    return queues;
  }

  /**
   * The SHA-256 of the key's UTF-8 bytes, in lowercase hex: how the JDBC logs index a key, which
   * may be up to 1024 bytes long.
   */
  public static String keyHash(String key) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha.digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
