package dev.pledge.client.participant;

import com.sun.net.httpserver.HttpHandler;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.xa.XaBranches;
import dev.pledge.client.xa.XaHeuristicException;
import dev.pledge.client.xa.XaOutcome;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A participant's endpoints for an {@code xa} branch: the coordinator's {@code prepare}, {@code
 * commit} and {@code rollback} calls (docs/protocols/xa.md), each a database prepared transaction
 * driven by {@link XaBranches}. The same shape as {@link Participant}'s 2pc ops, but the caller's
 * work runs in a branch that is prepared, not committed.
 *
 * <pre>{@code
 * XaParticipant xa = XaParticipant.create(XaBranches.create(dataSource));  // PostgreSQL or MariaDB
 * server.createContext("/stock/prepare", xa.prepare((connection, request) -> {
 *   if (!reserve(connection, request.payload())) throw new BusinessRefusal("out of stock");
 * }));
 * server.createContext("/stock/commit", xa.commit());
 * server.createContext("/stock/rollback", xa.rollback());
 * }</pre>
 *
 * <p>Answers: {@code 200 {"outcome": "prepared" | "already_prepared" | "already_committed" |
 * "committed" | "rolled_back" | "nothing_prepared"}}; a prepare answers {@code 409} when the work
 * refused ({@link BusinessRefusal}) or the branch was rolled back before the prepare arrived;
 * {@code 400} names a missing or wrong header ({@code Pledge-Mode} must be {@code xa}); {@code 503}
 * when the database failed (the coordinator calls again); {@code 500 heuristic_rollback} or {@code
 * heuristic_commit} when the branch had ended the other way (recorded; the coordinator keeps
 * calling and flags the transaction for an operator).
 */
public final class XaParticipant {
  private static final Logger LOG = LoggerFactory.getLogger(XaParticipant.class);

  private final XaBranches branches;

  private XaParticipant(XaBranches branches) {
    this.branches = branches;
  }

  public static XaParticipant create(XaBranches branches) {
    return new XaParticipant(Objects.requireNonNull(branches, "branches"));
  }

  public XaBranches branches() {
    return branches;
  }

  /** {@code POST} handler of {@code prepare}: runs {@code work} in the branch, then prepares it. */
  public HttpHandler prepare(Participant.Action work) {
    Objects.requireNonNull(work, "work");
    return exchange ->
        Participant.serve(exchange, "POST", (headers, body) -> answerPrepare(headers, body, work));
  }

  /** {@code POST} handler of {@code commit}. */
  public HttpHandler commit() {
    return exchange -> Participant.serve(exchange, "POST", this::answerCommit);
  }

  /** {@code POST} handler of {@code rollback}. */
  public HttpHandler rollback() {
    return exchange -> Participant.serve(exchange, "POST", this::answerRollback);
  }

  /** Answers one {@code prepare} call (header names lower case). */
  public Answer answerPrepare(Map<String, String> headers, byte[] body, Participant.Action work) {
    ParticipantRequest request;
    List<String> problems = new ArrayList<>();
    request = parse(Op.PREPARE, headers, body, problems);
    if (request == null) {
      return Answer.error(400, "invalid_request", String.join("; ", problems));
    }
    try {
      XaOutcome outcome =
          branches.prepare(
              request.gid(), request.branch(), connection -> work.run(connection, request));
      if (!outcome.votedYes()) {
        return Answer.error(
            409, "rolled_back", "the branch was rolled back before this prepare arrived");
      }
      return outcome(outcome);
    } catch (BusinessRefusal refusal) {
      return Answer.error(409, "refused", String.valueOf(refusal.getMessage()));
    } catch (SQLException e) {
      return unavailable(request, e);
    }
  }

  /** Answers one {@code commit} call. */
  public Answer answerCommit(Map<String, String> headers, byte[] body) {
    List<String> problems = new ArrayList<>();
    ParticipantRequest request = parse(Op.COMMIT, headers, body, problems);
    if (request == null) {
      return Answer.error(400, "invalid_request", String.join("; ", problems));
    }
    try {
      return outcome(branches.commit(request.gid(), request.branch()));
    } catch (XaHeuristicException e) {
      return Answer.error(500, e.incident().kind().code().replace('-', '_'), e.getMessage());
    } catch (SQLException e) {
      return unavailable(request, e);
    }
  }

  /** Answers one {@code rollback} call. */
  public Answer answerRollback(Map<String, String> headers, byte[] body) {
    List<String> problems = new ArrayList<>();
    ParticipantRequest request = parse(Op.ROLLBACK, headers, body, problems);
    if (request == null) {
      return Answer.error(400, "invalid_request", String.join("; ", problems));
    }
    try {
      return outcome(branches.rollback(request.gid(), request.branch()));
    } catch (XaHeuristicException e) {
      return Answer.error(500, e.incident().kind().code().replace('-', '_'), e.getMessage());
    } catch (SQLException e) {
      return unavailable(request, e);
    }
  }

  private static ParticipantRequest parse(
      Op op, Map<String, String> headers, byte[] body, List<String> problems) {
    ParticipantRequest request = Participant.parse(op, headers, body, problems);
    if (request != null && request.mode() != Mode.XA) {
      problems.add("Pledge-Mode: this endpoint serves xa branches, was " + request.mode().code());
      return null;
    }
    return request;
  }

  private static Answer outcome(XaOutcome outcome) {
    return Answer.json(200, "{\"outcome\":\"" + outcome.name().toLowerCase(Locale.ROOT) + "\"}");
  }

  private static Answer unavailable(ParticipantRequest request, SQLException e) {
    LOG.warn(
        "{} of {}/{}: database failed: {}",
        request.op().label(),
        request.gid(),
        request.branch(),
        e.toString());
    return Answer.error(503, "unavailable", "the database failed: " + e.getMessage());
  }
}
