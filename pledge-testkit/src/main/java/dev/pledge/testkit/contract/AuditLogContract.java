package dev.pledge.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.Gid;
import dev.pledge.core.spi.AuditLog;
import dev.pledge.core.spi.AuditLog.AuditEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The contract of {@link AuditLog}: each implementation runs it with a fresh, empty log. */
public abstract class AuditLogContract {
  private static final Instant T0 = Instant.parse("2026-01-31T12:00:00.123Z");

  protected AuditLog audit;

  /** A new, empty audit log. */
  protected abstract AuditLog newAuditLog();

  @BeforeEach
  final void freshAuditLog() {
    audit = newAuditLog();
  }

  @Test
  void recent_ofEmptyLog_isEmpty() {
    assertThat(audit.recent(null, 10)).isEmpty();
  }

  @Test
  void append_thenRecent_answersEveryFieldNewestFirst() {
    AuditEntry first =
        new AuditEntry(T0, "operator@3", "retry", Gid.of("order-1"), "OPS-1", "sent");
    AuditEntry second =
        new AuditEntry(
            T0.plusSeconds(1),
            "operator@4",
            "force abort",
            Gid.of("order-2"),
            "OPS-2: caller gone ünïcode",
            "status begun → aborting");
    AuditEntry third =
        new AuditEntry(T0.plusSeconds(2), "operator@3", "subscribe", null, "new inbox", "ok");

    audit.append(first);
    audit.append(second);
    audit.append(third);

    assertThat(audit.recent(null, 10)).containsExactly(third, second, first);
    assertThat(audit.recent(null, 2)).containsExactly(third, second);
  }

  @Test
  void recent_filtersByGid() {
    List<AuditEntry> appended = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      AuditEntry entry =
          new AuditEntry(
              T0.plusSeconds(i),
              "operator@1",
              "retry",
              Gid.of("order-" + (i % 3)),
              "reason " + i,
              "result " + i);
      audit.append(entry);
      appended.add(entry);
    }

    assertThat(audit.recent(Gid.of("order-1"), 10))
        .containsExactly(appended.get(7), appended.get(4), appended.get(1));
    assertThat(audit.recent(Gid.of("order-1"), 1)).containsExactly(appended.get(7));
    assertThat(audit.recent(Gid.of("order-9"), 10)).isEmpty();
  }

  @Test
  void entriesAtTheirBounds_areKeptWhole() {
    AuditEntry longest =
        new AuditEntry(
            T0,
            "a".repeat(AuditEntry.MAX_ACTOR),
            "b".repeat(AuditEntry.MAX_ACTION),
            Gid.of("g".repeat(Gid.MAX_LENGTH)),
            "c".repeat(AuditEntry.MAX_REASON),
            "d".repeat(AuditEntry.MAX_RESULT));

    audit.append(longest);

    assertThat(audit.recent(null, 1)).containsExactly(longest);
  }

  @Test
  void recent_rejectsLimitsOutsideItsBounds() {
    for (int limit : new int[] {0, -1, AuditLog.MAX_LIMIT + 1}) {
      assertThatThrownBy(() -> audit.recent(null, limit))
          .as("limit %d", limit)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
