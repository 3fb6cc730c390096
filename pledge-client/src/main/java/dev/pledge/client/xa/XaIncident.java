package dev.pledge.client.xa;

import java.time.Instant;

/**
 * Something recovery or an op found that the protocol alone does not explain, recorded in table
 * {@code pledge_xa_incident} and logged at warn: shown, never hidden.
 *
 * @param gid the global transaction (for a hashed gtrid whose gid is unknown: the gtrid)
 * @param detail what was seen, in words
 */
public record XaIncident(String gid, String branch, Kind kind, String detail, Instant recordedAt) {

  /** The kinds; the code is what the table stores. */
  public enum Kind {
    /**
     * The coordinator decided commit, but the branch was not prepared here and had not committed:
     * it was rolled back outside the protocol (by hand, or by this participant's recovery after the
     * bound for a branch no log knew). A mixed outcome: an operator must look.
     */
    HEURISTIC_ROLLBACK("heuristic-rollback"),
    /**
     * The coordinator decided abort, but the branch had committed here (committed outside the
     * protocol). A mixed outcome: an operator must look.
     */
    HEURISTIC_COMMIT("heuristic-commit"),
    /**
     * A prepared branch that no coordinator log knows (the coordinator answered 404) for longer
     * than the bound: rolled back by recovery (presumed abort).
     */
    UNKNOWN_ROLLED_BACK("unknown-rolled-back");

    private final String code;

    Kind(String code) {
      this.code = code;
    }

    public String code() {
      return code;
    }

    public static Kind fromCode(String code) {
      for (Kind kind : values()) {
        if (kind.code.equals(code)) {
          return kind;
        }
      }
      throw new IllegalArgumentException("unknown incident kind '" + code + "'");
    }
  }
}
