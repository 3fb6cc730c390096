package dev.pledge.spring;

import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.LocalTransactions;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The application's transactions, lent to the SDK: a unit of work runs in a {@link
 * TransactionTemplate} of the application's transaction manager (joining a transaction already in
 * progress), on the connection Spring binds to it for the {@code DataSource}.
 */
final class SpringLocalTransactions implements LocalTransactions {
  private final DataSource dataSource;
  private final TransactionTemplate template;

  SpringLocalTransactions(DataSource dataSource, PlatformTransactionManager transactions) {
    this.dataSource = dataSource;
    this.template = new TransactionTemplate(transactions);
  }

  /** An SQLException of the work, carried through Spring's template and unwrapped again. */
  private static final class Carrier extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Carrier(SQLException cause) {
      super(cause);
    }
  }

  @Override
  public void inTransaction(Barrier.Effect work) throws SQLException {
    try {
      template.executeWithoutResult(status -> {
        Connection connection = DataSourceUtils.getConnection(dataSource);
        try {
          work.run(connection);
        } catch (SQLException e) {
          throw new Carrier(e);
        } finally {
          DataSourceUtils.releaseConnection(connection, dataSource);
        }
      });
    } catch (Carrier carrier) {
      throw (SQLException) carrier.getCause();
    }
  }
}
