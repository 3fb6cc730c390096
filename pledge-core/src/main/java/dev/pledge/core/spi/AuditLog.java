package dev.pledge.core.spi;

import dev.pledge.core.Gid;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The audit log of operator actions (retry, force, re-drive, subscriptions): who, what, when, why
 * and with what result, kept in the coordinator's own database beside its transactions.
 *
 * <p>Contract, checked by the testkit's {@code AuditLogContract}: {@link #append} is durable once
 * it returns; {@link #recent} answers entries newest first (the order of appends), every field as
 * appended, filtered by gid when one is given; operating failures throw {@link
 * LogUnavailableException}. Entries are never changed or removed through this interface.
 */
public interface AuditLog {
  /** The most entries one {@link #recent} call answers. */
  int MAX_LIMIT = 500;

  void append(AuditEntry entry);

  /** Up to {@code limit} entries, newest first; only those about {@code gid} unless it is null. */
  List<AuditEntry> recent(Gid gid, int limit);

  /**
   * One operator action.
   *
   * @param actor who: the token's name ({@code operator@3}), never the token
   * @param action what: {@code retry}, {@code force abort}, {@code force skip-op}, {@code redrive}…
   * @param gid the transaction acted on, or null
   * @param reason why, as the operator wrote it
   * @param result what came of it: the changes made, or why it was refused
   */
  record AuditEntry(
      Instant at, String actor, String action, Gid gid, String reason, String result) {
    public static final int MAX_ACTOR = 128;
    public static final int MAX_ACTION = 64;
    public static final int MAX_REASON = 1000;
    public static final int MAX_RESULT = 2000;

    public AuditEntry {
      Objects.requireNonNull(at, "at");
      check("actor", actor, MAX_ACTOR);
      check("action", action, MAX_ACTION);
      check("reason", reason, MAX_REASON);
      check("result", result, MAX_RESULT);
    }

    private static void check(String field, String value, int max) {
      Objects.requireNonNull(value, field);
      if (value.length() > max) {
        throw new IllegalArgumentException(
            field + " must be at most " + max + " characters, got " + value.length());
      }
    }
  }
}
