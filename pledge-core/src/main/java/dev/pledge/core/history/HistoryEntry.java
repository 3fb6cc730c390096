package dev.pledge.core.history;

import dev.pledge.core.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One line of a transaction's timeline, self-describing so a console can draw it without knowing
 * the engine: when, at which version of the transaction, what kind of thing happened, to which
 * branch (or check-back, or delivery) and op, and how it went.
 *
 * @param at when it happened, by the coordinator's clock
 * @param version the transaction's version written with this entry
 * @param kind what happened
 * @param subject the branch id; {@code check} for a check-back; {@code MESSAGE>SUBSCRIPTION} for a
 *     delivery; null for the transaction as a whole
 * @param op the op's label ({@code action}, {@code confirm}, {@code check}, {@code deliver}, …), or
 *     the request ({@code commit}, {@code abort}, {@code register}, {@code retry}), or the
 *     operator's action ({@code retry}, {@code redrive}, {@code force abort}, {@code force
 *     skip-op}, {@code force mark-committed}); null for a state change
 * @param from the status before a state change (null: the transaction did not exist), else null
 * @param to the status after a state change, else null
 * @param outcome an answer's outcome ({@code succeeded}, {@code failed}, {@code pending}, {@code
 *     unknown}), else null
 * @param attempt the attempt of a call or answer (1 for the first), else 0
 * @param latency from sending a call to its answer, else null
 * @param detail the trigger of a state change, an answer's error text, or a note; at most {@link
 *     #MAX_DETAIL_CHARS} characters, else null
 */
public record HistoryEntry(
    Instant at,
    long version,
    Kind kind,
    String subject,
    String op,
    Status from,
    Status to,
    String outcome,
    int attempt,
    Duration latency,
    String detail) {

  /** The longest {@link #detail} kept; longer text is cut and ends with an ellipsis. */
  public static final int MAX_DETAIL_CHARS = 512;

  /** What an entry records. Codes are stable: they are stored. */
  public enum Kind {
    /** The transaction's status changed ({@code from} to {@code to}). */
    STATE(1, "state"),
    /** An op call, check-back or delivery was sent. */
    CALL(2, "call"),
    /** The answer to a call, check-back or delivery (or its absence, as unknown). */
    ANSWER(3, "answer"),
    /** An initiator's request: register, commit, abort. */
    REQUEST(4, "request"),
    /**
     * An operator's action: retry now, re-drive, force. A forced op's outcome is recorded here (on
     * its branch, with the outcome and attempt), never as an {@link #ANSWER}.
     */
    OPERATOR(5, "operator"),
    /** A note from the coordinator, such as the history's bound being reached. */
    NOTE(6, "note");

    private final int code;
    private final String label;

    Kind(int code, String label) {
      this.code = code;
      this.label = label;
    }

    public int code() {
      return code;
    }

    public String label() {
      return label;
    }

    public static Kind fromCode(int code) {
      for (Kind kind : values()) {
        if (kind.code == code) {
          return kind;
        }
      }
      throw new IllegalArgumentException("no history kind has code " + code);
    }
  }

  public HistoryEntry {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(kind, "kind");
    if (version < 1) {
      throw new IllegalArgumentException("version must be at least 1, got " + version);
    }
    if (attempt < 0) {
      throw new IllegalArgumentException("attempt must not be negative, got " + attempt);
    }
    if (latency != null && latency.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative, got " + latency);
    }
    detail = bounded(detail);
  }

  /** {@code text} cut to {@link #MAX_DETAIL_CHARS} characters. */
  public static String bounded(String text) {
    if (text == null || text.length() <= MAX_DETAIL_CHARS) {
      return text;
    }
    return text.substring(0, MAX_DETAIL_CHARS - 1) + "…";
  }
}
