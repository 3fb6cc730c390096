package dev.pledge.bench.load;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.config.DBOSConfig;
import dev.dbos.transact.workflow.StepOptions;
import dev.dbos.transact.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;

/**
 * The peer of Pledge's saga-2 workload: the same two-step saga as a DBOS Transact for Java workflow
 * on the same PostgreSQL, run in the bench process (DBOS is a library inside the application, with
 * a system database of its own, {@link #SYSTEM_DATABASE}, dropped and created again by the bench).
 *
 * <p>Each step is one call to the same participant endpoint Pledge's coordinator calls ({@code POST
 * /op} with the same headers and payload, one local transaction of the participant), as a DBOS step
 * that records its output before the next one starts. If a step fails (after DBOS's retries, which
 * are off here, as Pledge's saga fails a step on a 409), the steps that succeeded are compensated
 * in reverse order, each compensation a step of its own. The workflow's id is the global
 * transaction's id; a client is done when the workflow returns, as Pledge's client is done when the
 * transaction is final.
 */
final class DbosPeer implements AutoCloseable {
  static final String SYSTEM_DATABASE = BenchRun.LOG_DATABASE + "_dbos";
  static final String LABEL = "DBOS";

  /** The workflow's interface: DBOS proxies it and runs the annotated implementation durably. */
  interface Saga {
    String run(String gid);
  }

  /** The two-step saga: every action as a step, the compensations of the done ones on failure. */
  static final class SagaWorkflow implements Saga {
    private final DBOS dbos;
    private final Drivers drivers;
    private final int steps;

    SagaWorkflow(DBOS dbos, Drivers drivers, int steps) {
      this.dbos = dbos;
      this.drivers = drivers;
      this.steps = steps;
    }

    @Override
    @Workflow(name = "saga")
    public String run(String gid) {
      List<Integer> done = new ArrayList<>();
      for (int i = 1; i <= steps; i++) {
        int branch = i;
        try {
          dbos.runStep(
              () -> drivers.op(Workload.SAGA_2, gid, branch, "action"),
              new StepOptions("b" + branch + ".action").withMaxAttempts(1));
          done.add(branch);
        } catch (BenchException e) {
          for (int k = done.size() - 1; k >= 0; k--) {
            int undo = done.get(k);
            dbos.runStep(
                () -> drivers.op(Workload.SAGA_2, gid, undo, "compensate"),
                new StepOptions("b" + undo + ".compensate").withMaxAttempts(10));
          }
          return "compensated";
        }
      }
      return "committed";
    }
  }

  private final DBOS dbos;
  private final Saga saga;

  /**
   * Starts DBOS on {@code systemDatabaseUrl} (which must exist and be empty), with the saga
   * registered.
   */
  DbosPeer(String systemDatabaseUrl, String user, String password, Drivers drivers) {
    DBOSConfig config =
        DBOSConfig.defaults("pledge-bench")
            .withDatabaseUrl(systemDatabaseUrl)
            .withDbUser(user)
            .withDbPassword(password == null ? "" : password)
            .disableAdminServer();
    dbos = new DBOS(config);
    saga = dbos.registerProxy(Saga.class, new SagaWorkflow(dbos, drivers, 2));
    dbos.launch();
  }

  static String version() {
    return DBOS.version();
  }

  /** Why the last saga failed, for the report. */
  volatile String lastError;

  /** One saga through DBOS: true when its two actions committed. */
  boolean saga(String gid) {
    try {
      String outcome = saga.run(gid);
      if (!"committed".equals(outcome)) {
        lastError = gid + " " + outcome;
        return false;
      }
      return true;
    } catch (RuntimeException | LinkageError e) {
      lastError = gid + ": " + e;
      return false;
    }
  }

  @Override
  public void close() {
    dbos.close();
  }
}
