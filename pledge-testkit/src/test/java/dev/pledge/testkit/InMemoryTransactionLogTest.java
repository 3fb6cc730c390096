package dev.pledge.testkit;

import dev.pledge.core.spi.TransactionLog;
import dev.pledge.testkit.contract.TransactionLogContract;

/** The reference log against the whole contract. */
class InMemoryTransactionLogTest extends TransactionLogContract {
  @Override
  protected TransactionLog newLog() {
    return new InMemoryTransactionLog();
  }

  @Override
  protected TransactionLog newHandle(TransactionLog log) {
    return ((InMemoryTransactionLog) log).newHandle();
  }
}
