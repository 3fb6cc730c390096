package dev.pledge.client.xa.spi;

/**
 * Where {@code XaRecovery} learns a global transaction's outcome: the coordinator's log, read
 * through its API ({@code XaRecovery.coordinator(PledgeClient)}). Implementations never throw: an
 * unreachable coordinator is {@link Decision#UNREACHABLE}.
 */
@FunctionalInterface
public interface Decisions {

  /** What the log says of {@code gid}. */
  Decision of(String gid);

  /** The log's answer for one gid. */
  enum Decision {
    /** The commit decision is logged ({@code committing} or {@code committed}). */
    COMMIT,
    /** The abort decision is logged ({@code aborting} or {@code aborted}). */
    ROLL_BACK,
    /** The transaction is in the log, undecided ({@code begun}): the coordinator will decide. */
    UNDECIDED,
    /** No log knows the gid as an {@code xa} transaction (404, or another mode). */
    UNKNOWN,
    /** The coordinator could not be asked: nothing is decided on this run. */
    UNREACHABLE
  }
}
