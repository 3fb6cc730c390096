package dev.pledge.example.shop;

import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.participant.Answer;
import dev.pledge.client.participant.Participant;
import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.core.Op;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The participant side of inventory and payment: suffer this request's injected fault, then hand
 * the op to the SDK's {@link Participant}, which checks the {@code Pledge-*} headers and runs the
 * op behind the SDK's {@link Barrier} in one local transaction of the service's database.
 *
 * <p>One departure from the SDK's default answer, documented in docs/protocol.md as a variant: a
 * forward op that arrives after its compensation (hanging, which the barrier did not run) is
 * answered {@code 409 blocked} rather than {@code 200}; either is safe, the transaction is already
 * aborting. It counts what the barrier did, for the demo's report.
 */
final class ParticipantHttp {
  private static final Logger LOG = LoggerFactory.getLogger(ParticipantHttp.class);

  /** One op's business side; {@code refuse} says a business refusal was injected. */
  @FunctionalInterface
  interface Step {
    void run(Connection connection, ParticipantRequest request, boolean refuse) throws SQLException;
  }

  private final String service;
  private final Faults faults;
  private final Participant participant;
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

  ParticipantHttp(String service, Db db, Faults faults, Barrier barrier) {
    this.service = service;
    this.faults = faults;
    this.participant =
        Participant.create(
            barrier,
            work ->
                db.inTransaction(c -> {
                  work.run(c);
                  return null;
                }));
  }

  /** Registers {@code POST path} as {@code op}. */
  void route(ServiceHttp http, String path, Op op, Step step) {
    http.route("POST", path, request -> handle(request, op, step));
  }

  private ServiceHttp.Response handle(ServiceHttp.Request request, Op op, Step step) {
    Faults.Kind fault = faults.draw(op.isForward());
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
    boolean refuse = fault == Faults.Kind.REFUSE;
    Answer answer =
        participant.answerOp(
            op,
            request.headers(),
            request.bodyText().getBytes(StandardCharsets.UTF_8),
            (c, r) -> {
              if (refuse) {
                throw new BusinessRefusal("refused (injected)");
              }
              step.run(c, r, false);
            });
    String kind = kind(answer);
    if (kind != null) {
      counts.computeIfAbsent(op.label() + "/" + kind, k -> new AtomicLong()).incrementAndGet();
    }
    if ("blocked".equals(kind)) {
      answer =
          new Answer(
              409,
              Json.error("blocked", op.label() + " arrived after its compensation: it is not run"));
    }
    LOG.debug("{} {} -> {} {}", service, op.label(), answer.status(), kind);
    if (fault == Faults.Kind.FAIL_AFTER) {
      return ServiceHttp.Response.json(500, Json.error("injected", "500 after the work"));
    }
    return ServiceHttp.Response.json(answer.status(), answer.body());
  }

  private static String kind(Answer answer) {
    if (answer.status() == 409) {
      return "refused";
    }
    if (answer.status() != 200) {
      return null;
    }
    return switch (Json.read(answer.body()).path("outcome").asText()) {
      case "ran" -> "done";
      case "duplicate" -> "repeat";
      case "null_compensation" -> "null-compensation";
      case "hanging" -> "blocked";
      default -> null;
    };
  }

  /**
   * What the barrier did, by {@code op/kind} ({@code done}, {@code refused}, {@code
   * null-compensation}, {@code blocked}), and {@code repeats}: the duplicates it absorbed.
   */
  Map<String, Long> stats() {
    Map<String, Long> out = new TreeMap<>();
    long repeats = 0;
    for (Map.Entry<String, AtomicLong> count : counts.entrySet()) {
      if (count.getKey().endsWith("/repeat")) {
        repeats += count.getValue().get();
      } else {
        out.put(count.getKey(), count.getValue().get());
      }
    }
    out.put("repeats", repeats);
    return out;
  }
}
