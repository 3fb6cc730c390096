package dev.pledge.testkit;

import dev.pledge.core.spi.AuditLog;
import dev.pledge.testkit.contract.AuditLogContract;

class InMemoryAuditLogTest extends AuditLogContract {
  @Override
  protected AuditLog newAuditLog() {
    return new InMemoryAuditLog();
  }
}
