package dev.pledge.example.shop;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The participant side of Pledge's protocol, shared by inventory and payment: read the {@code
 * Pledge-*} headers, suffer this request's fault, run the op through the barrier in one local
 * transaction, answer.
 *
 * <p>The coordinator answers: {@code 2xx} succeeded, {@code 409} failed (forward ops only),
 * anything else or no answer in time unknown, retried.
 */
final class Participant {
  private static final Logger LOG = LoggerFactory.getLogger(Participant.class);

  /** One op behind the barrier; {@code refuse} says a business refusal was injected. */
  @FunctionalInterface
  interface Step {
    Barrier.Answer run(Connection connection, Barrier.Call call, boolean refuse)
        throws SQLException;
  }

  private final String service;
  private final Db db;
  private final Faults faults;

  Participant(String service, Db db, Faults faults) {
    this.service = service;
    this.db = db;
    this.faults = faults;
  }

  /** Registers {@code POST path} as the op {@code op} (a forward op when {@code forward}). */
  void route(ServiceHttp http, String path, String op, boolean forward, Step step) {
    http.route("POST", path, request -> handle(request, op, forward, step));
  }

  private ServiceHttp.Response handle(
      ServiceHttp.Request request, String op, boolean forward, Step step) {
    String gid = request.header("Pledge-Gid");
    String branch = request.header("Pledge-Branch");
    String asked = request.header("Pledge-Op");
    if (gid == null || branch == null || !op.equals(asked)) {
      throw new ServiceHttp.BadRequest(
          "expected headers Pledge-Gid, Pledge-Branch and Pledge-Op: " + op + ", got op " + asked);
    }
    JsonNode payload = Json.read(request.bodyText());
    Faults.Kind fault = faults.draw(forward);
    switch (fault) {
      case FAIL_BEFORE -> {
        return ServiceHttp.Response.json(503, Json.error("injected", "503 before the work"));
      }
      case SLOW -> {
        try {
          Thread.sleep(faults.rates().slowDelay());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return ServiceHttp.Response.json(503, Json.error("interrupted", "shutting down"));
        }
      }
      case NONE, REFUSE, FAIL_AFTER -> {}
    }
    Barrier.Call call = new Barrier.Call(gid, branch, op, payload);
    Barrier.Answer answer;
    try {
      answer = db.inTransaction(c -> step.run(c, call, fault == Faults.Kind.REFUSE));
    } catch (Barrier.OutOfOrder e) {
      LOG.error("{}: {}", service, e.getMessage());
      return ServiceHttp.Response.json(500, Json.error("out_of_order", e.getMessage()));
    }
    LOG.debug("{} {} {}/{} -> {}", service, op, gid, branch, answer.status());
    if (fault == Faults.Kind.FAIL_AFTER) {
      return ServiceHttp.Response.json(500, Json.error("injected", "500 after the work"));
    }
    return ServiceHttp.Response.json(answer.status(), answer.body());
  }
}
