package dev.pledge.client.xa;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeRejectedException;
import dev.pledge.client.PledgeUnavailableException;
import dev.pledge.client.TransactionView;
import dev.pledge.client.xa.spi.Decisions;
import dev.pledge.client.xa.spi.Decisions.Decision;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the prepared branches a crash left behind: lists them ({@code pg_prepared_xacts}, {@code
 * XA RECOVER}), asks the coordinator's log for each one's gid, and commits or rolls it back as the
 * log says. Run it when the participant starts ({@link #runOnce}) and then every period ({@link
 * #start}).
 *
 * <ul>
 *   <li>commit decision logged: {@code COMMIT PREPARED} / {@code XA COMMIT};
 *   <li>abort decision logged: {@code ROLLBACK PREPARED} / {@code XA ROLLBACK};
 *   <li>undecided: left alone; the coordinator decides (at the latest at the transaction's timeout,
 *       presumed abort) and calls, or the next run sees the decision;
 *   <li>no log knows the gid: left alone until it has been prepared (or, where the database does
 *       not say since when, seen by this recovery) for {@code unknownAfter}, then rolled back and
 *       reported as an {@link XaIncident} {@code unknown-rolled-back};
 *   <li>coordinator unreachable: left alone (xa blocks rather than guess); counted.
 * </ul>
 *
 * <p>A commit or rollback that finds the branch already ended the other way records the heuristic
 * outcome ({@link XaHeuristicException}). Each run handles at most {@code maxPerRun} branches.
 */
public final class XaRecovery implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(XaRecovery.class);

  /**
   * What one run did.
   *
   * @param found Pledge's prepared branches listed
   * @param committed committed as the log decided
   * @param rolledBack rolled back as the log decided
   * @param undecided left: the log has not decided yet
   * @param unknownWaiting left: no log knows them, their bound has not passed
   * @param unknownRolledBack rolled back and reported: no log knew them past their bound
   * @param unreachable left: the coordinator could not be asked
   * @param heuristic found ended the other way (recorded as incidents)
   * @param failed the database failed on them; the next run tries again
   */
  public record Report(
      int found,
      int committed,
      int rolledBack,
      int undecided,
      int unknownWaiting,
      int unknownRolledBack,
      int unreachable,
      int heuristic,
      int failed) {

    /** Whether every listed branch was resolved. */
    public boolean resolvedAll() {
      return committed + rolledBack + unknownRolledBack == found;
    }
  }

  private final XaBranches branches;
  private final Decisions decisions;
  private final XaRecoveryConfig config;
  private final Clock clock;

  /** Since when this recovery has seen a branch that no log knows, for databases without a time. */
  private final Map<XaXid, Instant> firstSeen = new HashMap<>();

  private ScheduledExecutorService scheduler;

  private XaRecovery(
      XaBranches branches, Decisions decisions, XaRecoveryConfig config, Clock clock) {
    this.branches = branches;
    this.decisions = decisions;
    this.config = config;
    this.clock = clock;
  }

  public static XaRecovery create(
      XaBranches branches, Decisions decisions, XaRecoveryConfig config, Clock clock) {
    return new XaRecovery(
        Objects.requireNonNull(branches, "branches"),
        Objects.requireNonNull(decisions, "decisions"),
        Objects.requireNonNull(config, "config"),
        Objects.requireNonNull(clock, "clock"));
  }

  /** The coordinator's log, read with {@code GET /api/v1/transactions/{gid}}. */
  public static Decisions coordinator(PledgeClient client) {
    Objects.requireNonNull(client, "client");
    return gid -> {
      try {
        TransactionView view = client.get(gid);
        if (!"xa".equals(view.mode())) {
          return Decision.UNKNOWN;
        }
        return switch (view.status()) {
          case "committing", "committed" -> Decision.COMMIT;
          case "aborting", "aborted" -> Decision.ROLL_BACK;
          default -> Decision.UNDECIDED;
        };
      } catch (PledgeRejectedException e) {
        return e.status() == 404 ? Decision.UNKNOWN : Decision.UNREACHABLE;
      } catch (PledgeUnavailableException e) {
        return Decision.UNREACHABLE;
      }
    };
  }

  /**
   * One pass over the prepared branches.
   *
   * @throws SQLException when they could not be listed
   */
  public synchronized Report runOnce() throws SQLException {
    List<XaBranches.PreparedBranch> prepared = branches.prepared(config.maxPerRun());
    Instant now = clock.instant();
    Set<XaXid> listed = new HashSet<>();
    int committed = 0;
    int rolledBack = 0;
    int undecided = 0;
    int unknownWaiting = 0;
    int unknownRolledBack = 0;
    int unreachable = 0;
    int heuristic = 0;
    int failed = 0;
    for (XaBranches.PreparedBranch branch : prepared) {
      listed.add(branch.xid());
      String gid = branch.gid() == null ? branch.xid().gtrid() : branch.gid();
      Decision decision = branch.gid() == null ? Decision.UNKNOWN : decisions.of(branch.gid());
      try {
        switch (decision) {
          case COMMIT -> {
            branches.commit(gid, branch.branch());
            committed++;
          }
          case ROLL_BACK -> {
            branches.rollback(gid, branch.branch());
            rolledBack++;
          }
          case UNDECIDED -> undecided++;
          case UNREACHABLE -> unreachable++;
          case UNKNOWN -> {
            Instant since =
                branch.preparedAt() != null
                    ? branch.preparedAt()
                    : firstSeen.computeIfAbsent(branch.xid(), x -> now);
            if (Duration.between(since, now).compareTo(config.unknownAfter()) < 0) {
              unknownWaiting++;
            } else if (branch.gid() == null) {
              // A hashed gtrid whose gid row is gone: roll back by the xid itself.
              rollbackByXid(branch.xid());
              unknownRolledBack++;
            } else {
              branches.rollback(gid, branch.branch(), XaIncident.Kind.UNKNOWN_ROLLED_BACK);
              unknownRolledBack++;
            }
          }
        }
      } catch (XaHeuristicException e) {
        heuristic++;
      } catch (SQLException | RuntimeException e) {
        failed++;
        LOG.warn("xa recovery of {}: {}", branch.xid(), e.toString());
      }
    }
    firstSeen.keySet().retainAll(listed);
    if (prepared.size() < config.maxPerRun()) {
      branches.forgetGids(config.gidRetention(), listed);
    }
    Report report =
        new Report(
            prepared.size(),
            committed,
            rolledBack,
            undecided,
            unknownWaiting,
            unknownRolledBack,
            unreachable,
            heuristic,
            failed);
    if (!prepared.isEmpty()) {
      LOG.info("xa recovery: {}", report);
    }
    return report;
  }

  private void rollbackByXid(XaXid xid) throws SQLException {
    branches.rollbackUnmapped(xid);
  }

  /** Runs {@link #runOnce} now and then every period, on one daemon thread, until closed. */
  public synchronized XaRecovery start() {
    if (scheduler != null) {
      throw new IllegalStateException("already started");
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(runnable -> {
          Thread thread = new Thread(runnable, "pledge-xa-recovery");
          thread.setDaemon(true);
          return thread;
        });
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            runOnce();
          } catch (SQLException | RuntimeException e) {
            LOG.warn("xa recovery run failed: {}", e.toString());
          }
        },
        0,
        config.period().toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  @Override
  public void close() {
    ScheduledExecutorService running;
    synchronized (this) {
      running = scheduler;
      scheduler = null;
    }
    if (running != null) {
      running.shutdownNow();
      try {
        running.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
