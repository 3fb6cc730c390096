package dev.pledge.example.shop;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The participant barrier: a table keyed {@code (gid, branch, op)}, written in the same local
 * transaction as the business change it guards. It gives three promises.
 *
 * <ul>
 *   <li><b>Idempotence.</b> An op seen before does nothing and answers what it answered the first
 *       time: a duplicate call, or a retry after a lost answer, cannot charge twice.
 *   <li><b>Null compensation.</b> A compensation (saga {@code compensate}, 2pc {@code rollback})
 *       whose forward op never ran records itself and answers 2xx without undoing anything.
 *   <li><b>No hanging.</b> A forward op arriving after its compensation (a slow request overtaken
 *       by the abort) is refused with 409 and changes nothing, so no stock stays reserved forever.
 * </ul>
 *
 * <p>The first answer is stored with the row: {@code kind} says what happened ({@code done}, {@code
 * refused}, {@code null-compensation}, {@code nothing-to-undo}, {@code blocked}), and {@code
 * repeats} counts the duplicates that were absorbed.
 */
final class Barrier {
  static final String DDL =
      """
      CREATE TABLE IF NOT EXISTS barrier (
        gid TEXT NOT NULL,
        branch TEXT NOT NULL,
        op TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        kind TEXT NOT NULL,
        repeats INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (gid, branch, op))
      """;

  static final String DONE = "done";
  static final String REFUSED = "refused";
  static final String NULL_COMPENSATION = "null-compensation";
  static final String NOTHING_TO_UNDO = "nothing-to-undo";
  static final String BLOCKED = "blocked";

  /** One op as the coordinator called it. */
  record Call(String gid, String branch, String op, JsonNode payload) {}

  /** An answer to the coordinator: 2xx, or 409 for a business refusal of a forward op. */
  record Answer(int status, String body) {
    static Answer ok(String body) {
      return new Answer(200, body);
    }

    static Answer refused(String code, String message) {
      return new Answer(409, Json.error(code, message));
    }

    boolean succeeded() {
      return status / 100 == 2;
    }
  }

  /** The business side of an op, run inside the barrier's local transaction. */
  @FunctionalInterface
  interface Work {
    Answer run(Connection connection) throws SQLException;
  }

  /** A protocol violation by the caller (an op out of order); answered 5xx, nothing recorded. */
  static final class OutOfOrder extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OutOfOrder(String message) {
      super(message);
    }
  }

  private record Row(int status, String body, String kind) {}

  private Barrier() {}

  /**
   * A forward op ({@code action}, {@code prepare}): runs {@code work} once, unless the branch was
   * already compensated.
   */
  static Answer forward(Connection c, Call call, String compensationOp, Work work)
      throws SQLException {
    Row seen = row(c, call.gid(), call.branch(), call.op());
    if (seen != null) {
      return repeat(c, call, seen);
    }
    if (row(c, call.gid(), call.branch(), compensationOp) != null) {
      Answer blocked =
          Answer.refused(
              "blocked", call.op() + " arrived after " + compensationOp + ": it is not run");
      insert(c, call, blocked, BLOCKED);
      return blocked;
    }
    Answer answer = work.run(c);
    if (!answer.succeeded() && answer.status() != 409) {
      throw new IllegalStateException(
          "forward work must answer 2xx or 409, answered " + answer.status());
    }
    insert(c, call, answer, answer.succeeded() ? DONE : REFUSED);
    return answer;
  }

  /**
   * A compensation ({@code compensate}, {@code rollback}): undoes the forward op if it succeeded;
   * records a null compensation if it never ran, which blocks it from running later.
   */
  static Answer compensate(Connection c, Call call, String forwardOp, Work undo)
      throws SQLException {
    Row seen = row(c, call.gid(), call.branch(), call.op());
    if (seen != null) {
      return repeat(c, call, seen);
    }
    if (row(c, call.gid(), call.branch(), "commit") != null) {
      throw new OutOfOrder(call.op() + " of " + call.gid() + "/" + call.branch() + " after commit");
    }
    Row forward = row(c, call.gid(), call.branch(), forwardOp);
    Answer answer;
    String kind;
    if (forward == null) {
      answer = Answer.ok("{\"nullCompensation\":true}");
      kind = NULL_COMPENSATION;
    } else if (forward.status() / 100 == 2) {
      answer = undo.run(c);
      kind = DONE;
    } else {
      answer = Answer.ok("{\"nothingToUndo\":true}");
      kind = NOTHING_TO_UNDO;
    }
    insert(c, call, answer, kind);
    return answer;
  }

  /** A second-phase op that needs its forward op to have succeeded: 2pc {@code commit}. */
  static Answer confirm(Connection c, Call call, String forwardOp, String compensationOp, Work work)
      throws SQLException {
    Row seen = row(c, call.gid(), call.branch(), call.op());
    if (seen != null) {
      return repeat(c, call, seen);
    }
    Row forward = row(c, call.gid(), call.branch(), forwardOp);
    if (forward == null || forward.status() / 100 != 2) {
      throw new OutOfOrder(
          call.op()
              + " of "
              + call.gid()
              + "/"
              + call.branch()
              + " without a successful "
              + forwardOp);
    }
    if (row(c, call.gid(), call.branch(), compensationOp) != null) {
      throw new OutOfOrder(
          call.op() + " of " + call.gid() + "/" + call.branch() + " after " + compensationOp);
    }
    Answer answer = work.run(c);
    insert(c, call, answer, DONE);
    return answer;
  }

  private static Answer repeat(Connection c, Call call, Row seen) throws SQLException {
    Db.update(
        c,
        "UPDATE barrier SET repeats = repeats + 1 WHERE gid = ? AND branch = ? AND op = ?",
        call.gid(),
        call.branch(),
        call.op());
    return new Answer(seen.status(), seen.body());
  }

  private static Row row(Connection c, String gid, String branch, String op) throws SQLException {
    try (ResultSet rows =
        Db.query(
            c,
            "SELECT status, body, kind FROM barrier WHERE gid = ? AND branch = ? AND op = ?",
            gid,
            branch,
            op)) {
      return rows.next() ? new Row(rows.getInt(1), rows.getString(2), rows.getString(3)) : null;
    }
  }

  private static void insert(Connection c, Call call, Answer answer, String kind)
      throws SQLException {
    Db.update(
        c,
        "INSERT INTO barrier (gid, branch, op, status, body, kind) VALUES (?, ?, ?, ?, ?, ?)",
        call.gid(),
        call.branch(),
        call.op(),
        answer.status(),
        answer.body(),
        kind);
  }

  /** How many rows of each {@code op/kind}, and {@code repeats}: the duplicates absorbed. */
  static Map<String, Long> stats(Db db) {
    return db.inTransaction(c -> {
      Map<String, Long> out = new TreeMap<>();
      try (ResultSet rows =
          Db.query(c, "SELECT op, kind, COUNT(*), SUM(repeats) FROM barrier GROUP BY op, kind")) {
        while (rows.next()) {
          out.put(rows.getString(1) + "/" + rows.getString(2), rows.getLong(3));
          out.merge("repeats", rows.getLong(4), Long::sum);
        }
      }
      out.putIfAbsent("repeats", 0L);
      return out;
    });
  }

  /**
   * What is wrong with the barrier table, if anything: a blocked forward op with no null
   * compensation before it, a compensation and a commit of the same branch, a commit or an undo
   * without a successful forward op.
   */
  static List<String> problems(Db db, String forwardOp, String compensationOp) {
    return db.inTransaction(c -> {
      List<String> out = new ArrayList<>();
      collect(
          c,
          out,
          "blocked " + forwardOp + " without a null compensation",
          """
          SELECT f.gid || '/' || f.branch FROM barrier f WHERE f.op = ? AND f.kind = 'blocked'
          AND NOT EXISTS (SELECT 1 FROM barrier b WHERE b.gid = f.gid AND b.branch = f.branch
                          AND b.op = ? AND b.kind = 'null-compensation')
          """,
          forwardOp,
          compensationOp);
      if (forwardOp.equals("prepare")) {
        collect(
            c,
            out,
            "both commit and " + compensationOp,
            """
            SELECT f.gid || '/' || f.branch FROM barrier f WHERE f.op = 'commit'
            AND EXISTS (SELECT 1 FROM barrier b WHERE b.gid = f.gid AND b.branch = f.branch
                        AND b.op = ?)
            """,
            compensationOp);
      }
      collect(
          c,
          out,
          "commit or undo without a successful " + forwardOp,
          """
          SELECT f.gid || '/' || f.branch FROM barrier f
          WHERE ((f.op = 'commit' AND ? = 'prepare') OR (f.op = ? AND f.kind = 'done'))
          AND NOT EXISTS (SELECT 1 FROM barrier b WHERE b.gid = f.gid AND b.branch = f.branch
                          AND b.op = ? AND b.status BETWEEN 200 AND 299)
          """,
          forwardOp,
          compensationOp,
          forwardOp);
      collect(
          c,
          out,
          "null compensation followed by a successful " + forwardOp,
          """
          SELECT f.gid || '/' || f.branch FROM barrier f WHERE f.op = ? AND f.kind = 'null-compensation'
          AND EXISTS (SELECT 1 FROM barrier b WHERE b.gid = f.gid AND b.branch = f.branch
                      AND b.op = ? AND b.status BETWEEN 200 AND 299)
          """,
          compensationOp,
          forwardOp);
      return out;
    });
  }

  private static void collect(
      Connection c, List<String> out, String what, String sql, Object... args) throws SQLException {
    try (ResultSet rows = Db.query(c, sql, args)) {
      while (rows.next()) {
        out.add(what + ": " + rows.getString(1));
      }
    }
  }
}
