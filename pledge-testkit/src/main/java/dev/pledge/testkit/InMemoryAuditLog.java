package dev.pledge.testkit;

import dev.pledge.core.Gid;
import dev.pledge.core.spi.AuditLog;
import java.util.ArrayList;
import java.util.List;

/** The audit log in memory: the reference implementation of {@link AuditLog}'s contract. */
public final class InMemoryAuditLog implements AuditLog {
  private final List<AuditEntry> entries = new ArrayList<>();

  @Override
  public synchronized void append(AuditEntry entry) {
    entries.add(entry);
  }

  @Override
  public synchronized List<AuditEntry> recent(Gid gid, int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be in [1, " + MAX_LIMIT + "], got " + limit);
    }
    List<AuditEntry> out = new ArrayList<>();
    for (int i = entries.size() - 1; i >= 0 && out.size() < limit; i--) {
      AuditEntry entry = entries.get(i);
      if (gid == null || gid.equals(entry.gid())) {
        out.add(entry);
      }
    }
    return out;
  }
}
