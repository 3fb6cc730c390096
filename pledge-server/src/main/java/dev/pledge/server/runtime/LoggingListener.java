package dev.pledge.server.runtime;

import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.runtime.RuntimeListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** One log line per state transition (gid in the MDC), and the runtime's operating failures. */
final class LoggingListener implements RuntimeListener {
  private static final Logger LOG = LoggerFactory.getLogger("dev.pledge.runtime");

  @Override
  public void transitioned(Transaction tx, Transition row) {
    MDC.put("gid", tx.gid().value());
    try {
      if (row.from() != row.to()) {
        LOG.info(
            "{} {} -> {} on {} (v{})",
            tx.gid(),
            row.from() == null ? "[new]" : row.from().label(),
            row.to().label(),
            row.trigger().label(),
            tx.version());
      } else if (LOG.isDebugEnabled()) {
        LOG.debug("{} {} on {}", tx.gid(), row.to().label(), row.trigger().label());
      }
    } finally {
      MDC.remove("gid");
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
