package dev.pledge.server.runtime;

import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.runtime.RuntimeListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The runtime's log lines: every state transition at DEBUG (gid in the MDC), a transaction that
 * ends other than committed at INFO, and the runtime's operating failures at WARN. A committed
 * transaction writes no line at INFO: one synchronous write per transition was a measurable part of
 * the coordinator's CPU per transaction ({@code docs/benchmarks.md}); its history is in the log
 * ({@code GET /api/v1/transactions/{gid}/history}) and its counts in {@code /metrics}.
 */
final class LoggingListener implements RuntimeListener {
  private static final Logger LOG = LoggerFactory.getLogger("dev.pledge.runtime");

  @Override
  public void transitioned(Transaction tx, Transition row) {
    if (!LOG.isDebugEnabled()) {
      return;
    }
    MDC.put("gid", tx.gid().value());
    try {
      LOG.debug(
          "{} {} -> {} on {} (v{})",
          tx.gid(),
          row.from() == null ? "[new]" : row.from().label(),
          row.to().label(),
          row.trigger().label(),
          tx.version());
    } finally {
      MDC.remove("gid");
    }
  }

  @Override
  public void finalized(Transaction tx) {
    if (tx.status() != Status.COMMITTED && LOG.isInfoEnabled()) {
      LOG.info("{} ended {} (v{})", tx.gid(), tx.status().label(), tx.version());
    }
  }

  @Override
  public void logFailed(String what, RuntimeException failure) {
    LOG.warn("{} failed: {}; it will be found again as due work", what, failure.getMessage());
  }

  @Override
  public void recoveryDone(long recovered) {
    LOG.info("recovery done: {} unsettled transactions of an earlier run recovered", recovered);
  }

  @Override
  public void fenced(Transaction tx, RuntimeException failure) {
    LOG.debug("{}: left to the coordinator that took it over: {}", tx.gid(), failure.getMessage());
  }
}
