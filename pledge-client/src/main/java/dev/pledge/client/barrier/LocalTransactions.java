package dev.pledge.client.barrier;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Runs a unit of work in one local transaction of the caller's making: committed when the work
 * returns, rolled back when it throws (and the exception passed on). How a service that manages its
 * own connections (a Spring {@code TransactionTemplate}, a single SQLite connection) lends them to
 * the barrier, the participant endpoints and the {@code msg} producer.
 *
 * <p>Contract (the SDK's {@code LocalTransactionsContract}, run by {@link #of} and by the Spring
 * Boot starter's implementation on PostgreSQL, MariaDB and SQLite): the work gets a connection with
 * auto-commit off; all its writes commit together when it returns and none when it throws; the
 * exception it threw is the one the caller gets, unwrapped.
 */
@FunctionalInterface
public interface LocalTransactions {
  void inTransaction(Barrier.Effect work) throws SQLException;

  /**
   * Plain JDBC: each unit of work on a connection of its own from {@code dataSource}, auto-commit
   * off, committed or rolled back, the connection's auto-commit restored and the connection closed.
   */
  static LocalTransactions of(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    return work -> {
      try (Connection connection = dataSource.getConnection()) {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
          work.run(connection);
          connection.commit();
        } catch (SQLException | RuntimeException | Error e) {
          try {
            connection.rollback();
          } catch (SQLException suppressed) {
            e.addSuppressed(suppressed);
          }
          throw e;
        } finally {
          connection.setAutoCommit(autoCommit);
        }
      }
    };
  }
}
