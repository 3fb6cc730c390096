package dev.pledge.client.barrier;

import java.sql.SQLException;

/**
 * Runs a unit of work in one local transaction of the caller's making: committed when the work
 * returns, rolled back when it throws (and the exception passed on). How a service that manages its
 * own connections (a Spring {@code TransactionTemplate}, a single SQLite connection) lends them to
 * the barrier, the participant endpoints and the {@code msg} producer.
 */
@FunctionalInterface
public interface LocalTransactions {
  void inTransaction(Barrier.Effect work) throws SQLException;
}
