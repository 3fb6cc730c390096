package dev.pledge.bench.load;

import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAResource;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.xa.PGXADataSource;

/**
 * What {@link XaBench} measures Pledge against, each doing the same N-branch work: branch {@code i}
 * (from 0) inserts row {@code id * 10 + i} into {@code bench_xa}, on PostgreSQL when {@code i} is
 * even and on MariaDB when it is odd, and every branch commits or none does.
 */
final class XaPeers {
  private XaPeers() {}

  /** Whether branch {@code i} is on PostgreSQL (else MariaDB). */
  static boolean onPostgres(int branch) {
    return branch % 2 == 0;
  }

  /** The row branch {@code i} of transaction {@code id} inserts. */
  static long row(long id, int branch) {
    return id * 10 + branch;
  }

  static void insert(Connection c, long id, String who) throws SQLException {
    try (PreparedStatement insert =
        c.prepareStatement("INSERT INTO bench_xa (id, who) VALUES (?, ?)")) {
      insert.setLong(1, id);
      insert.setString(2, who);
      insert.executeUpdate();
    }
  }

  /**
   * R2 (R-N): raw prepared transactions without a coordinator. Each client keeps one connection per
   * branch, prepares every branch ({@code BEGIN; INSERT; PREPARE TRANSACTION} on PostgreSQL, {@code
   * XA START; INSERT; XA END; XA PREPARE} on MariaDB), then commits every one.
   */
  static final class Raw implements XaBench.SystemUnderTest {
    private final String pgUrl;
    private final String mariaUrl;
    private final int branches;
    private final List<Connection> opened = new ArrayList<>();

    Raw(String pgUrl, String mariaUrl, int branches) {
      this.pgUrl = pgUrl;
      this.mariaUrl = mariaUrl;
      this.branches = branches;
    }

    @Override
    public XaBench.Client client() throws SQLException {
      List<Statement> statements = new ArrayList<>();
      for (int i = 0; i < branches; i++) {
        Connection c = DriverManager.getConnection(onPostgres(i) ? pgUrl : mariaUrl);
        opened.add(c);
        statements.add(c.createStatement());
      }
      return id -> {
        for (int i = 0; i < branches; i++) {
          Statement s = statements.get(i);
          String xid = "'r2-" + id + "-" + i + "'";
          String insert = "INSERT INTO bench_xa (id, who) VALUES (" + row(id, i) + ", 'r2')";
          if (onPostgres(i)) {
            s.execute("BEGIN");
            s.executeUpdate(insert);
            s.execute("PREPARE TRANSACTION " + xid);
          } else {
            s.execute("XA START " + xid);
            s.executeUpdate(insert);
            s.execute("XA END " + xid);
            s.execute("XA PREPARE " + xid);
          }
        }
        for (int i = 0; i < branches; i++) {
          String xid = "'r2-" + id + "-" + i + "'";
          statements.get(i).execute((onPostgres(i) ? "COMMIT PREPARED " : "XA COMMIT ") + xid);
        }
      };
    }

    @Override
    public void close() throws SQLException {
      for (Connection c : opened) {
        c.close();
      }
    }
  }

  static TransactionManager narayana(Path folder) {
    String store = folder.resolve("narayana-store").toAbsolutePath().toString();
    System.setProperty("ObjectStoreEnvironmentBean.objectStoreDir", store);
    System.setProperty("com.arjuna.ats.arjuna.objectstore.objectStoreDir", store);
    System.setProperty("CoreEnvironmentBean.nodeIdentifier", "pledge-bench");
    return com.arjuna.ats.jta.TransactionManager.transactionManager();
  }

  /**
   * Atomikos as its users run it: an {@code AtomikosDataSourceBean} (its pool of XA connections,
   * enlisted by itself) per branch, and its {@code UserTransactionManager}.
   */
  static final class Atomikos implements XaBench.SystemUnderTest {
    private final com.atomikos.icatch.jta.UserTransactionManager manager;
    private final List<com.atomikos.jdbc.AtomikosDataSourceBean> beans = new ArrayList<>();

    Atomikos(String pgUrl, String mariaUrl, Path folder, int branches, int concurrency)
        throws Exception {
      String dir = folder.resolve("atomikos").toAbsolutePath().toString();
      Files.createDirectories(Path.of(dir));
      System.setProperty("com.atomikos.icatch.log_base_dir", dir);
      System.setProperty("com.atomikos.icatch.output_dir", dir);
      System.setProperty("com.atomikos.icatch.max_actives", "-1");
      for (int i = 0; i < branches; i++) {
        XADataSource xa;
        if (onPostgres(i)) {
          PGXADataSource pgXa = new PGXADataSource();
          pgXa.setUrl(pgUrl);
          xa = pgXa;
        } else {
          xa = new MariaDbDataSource(mariaUrl);
        }
        // Two beans keep the names of the two-branch runs; more add their index.
        String name =
            (onPostgres(i) ? "pledge-bench-pg" : "pledge-bench-mariadb") + (i < 2 ? "" : "-" + i);
        beans.add(bean(name, xa, concurrency));
      }
      manager = new com.atomikos.icatch.jta.UserTransactionManager();
      manager.setForceShutdown(true);
      manager.init();
    }

    private static com.atomikos.jdbc.AtomikosDataSourceBean bean(
        String name, XADataSource xa, int concurrency) throws SQLException {
      com.atomikos.jdbc.AtomikosDataSourceBean bean =
          new com.atomikos.jdbc.AtomikosDataSourceBean();
      bean.setUniqueResourceName(name);
      bean.setXaDataSource(xa);
      bean.setMinPoolSize(concurrency);
      bean.setMaxPoolSize(concurrency * 2);
      bean.init();
      return bean;
    }

    @Override
    public XaBench.Client client() {
      return id -> {
        manager.begin();
        try {
          for (int i = 0; i < beans.size(); i++) {
            try (Connection c = beans.get(i).getConnection()) {
              insert(c, row(id, i), "atomikos");
            }
          }
        } catch (Exception e) {
          manager.rollback();
          throw e;
        }
        manager.commit();
      };
    }

    @Override
    public void close() {
      for (com.atomikos.jdbc.AtomikosDataSourceBean bean : beans) {
        bean.close();
      }
      manager.close();
    }
  }

  /**
   * An {@code XAResource} that is its own resource manager, so that a transaction manager gives it
   * a branch of its own rather than joining it ({@code TMJOIN}) to another connection to the same
   * database, which neither driver supports across connections.
   */
  private record OwnBranch(XAResource delegate) implements XAResource {
    @Override
    public boolean isSameRM(XAResource other) {
      return other == this;
    }

    @Override
    public void commit(javax.transaction.xa.Xid xid, boolean onePhase)
        throws javax.transaction.xa.XAException {
      delegate.commit(xid, onePhase);
    }

    @Override
    public void end(javax.transaction.xa.Xid xid, int flags)
        throws javax.transaction.xa.XAException {
      delegate.end(xid, flags);
    }

    @Override
    public void forget(javax.transaction.xa.Xid xid) throws javax.transaction.xa.XAException {
      delegate.forget(xid);
    }

    @Override
    public int getTransactionTimeout() throws javax.transaction.xa.XAException {
      return delegate.getTransactionTimeout();
    }

    @Override
    public int prepare(javax.transaction.xa.Xid xid) throws javax.transaction.xa.XAException {
      return delegate.prepare(xid);
    }

    @Override
    public javax.transaction.xa.Xid[] recover(int flag) throws javax.transaction.xa.XAException {
      return delegate.recover(flag);
    }

    @Override
    public void rollback(javax.transaction.xa.Xid xid) throws javax.transaction.xa.XAException {
      delegate.rollback(xid);
    }

    @Override
    public boolean setTransactionTimeout(int seconds) throws javax.transaction.xa.XAException {
      return delegate.setTransactionTimeout(seconds);
    }

    @Override
    public void start(javax.transaction.xa.Xid xid, int flags)
        throws javax.transaction.xa.XAException {
      delegate.start(xid, flags);
    }
  }

  /**
   * A JTA transaction manager (Narayana) driving each client's own XA connection per branch; with
   * more than two branches each is wrapped as {@link OwnBranch}.
   */
  static final class Jta implements XaBench.SystemUnderTest {
    private final TransactionManager manager;
    private final PGXADataSource pg = new PGXADataSource();
    private final XADataSource maria;
    private final int branches;
    private final List<XAConnection> opened = new ArrayList<>();

    Jta(String pgUrl, String mariaUrl, TransactionManager manager, int branches)
        throws SQLException {
      this.manager = manager;
      this.branches = branches;
      pg.setUrl(pgUrl);
      maria = new MariaDbDataSource(mariaUrl);
    }

    @Override
    public XaBench.Client client() throws SQLException {
      List<XAResource> resources = new ArrayList<>();
      List<Connection> connections = new ArrayList<>();
      for (int i = 0; i < branches; i++) {
        XAConnection xa = (onPostgres(i) ? pg : maria).getXAConnection();
        opened.add(xa);
        resources.add(branches == 2 ? xa.getXAResource() : new OwnBranch(xa.getXAResource()));
        connections.add(xa.getConnection());
      }
      return id -> {
        manager.begin();
        try {
          Transaction tx = manager.getTransaction();
          for (XAResource resource : resources) {
            tx.enlistResource(resource);
          }
          for (int i = 0; i < branches; i++) {
            insert(connections.get(i), row(id, i), "narayana");
          }
          for (XAResource resource : resources) {
            tx.delistResource(resource, XAResource.TMSUCCESS);
          }
        } catch (Exception e) {
          manager.rollback();
          throw e;
        }
        manager.commit();
      };
    }

    @Override
    public void close() throws Exception {
      for (XAConnection c : opened) {
        c.close();
      }
    }
  }
}
