package dev.pledge.testkit.contract;

import static dev.pledge.testkit.contract.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.spi.DuplicateGidException;
import dev.pledge.core.spi.VersionConflictException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The history written with each create and update: in order, per gid, every field. */
interface HistoryContract extends LogContractPart {
  @Test
  default void history_ofGidWithoutEntries_isEmpty() {
    log().create(Fixtures.started(Mode.SAGA, gid("tx")).latest());

    assertThat(log().history(gid("tx"))).isEmpty();
    assertThat(log().history(gid("unknown"))).isEmpty();
  }

  @Test
  default void history_isWrittenWithEachCreateAndUpdate_inOrder_perGid() {
    Story saga = Fixtures.sagaCompensated(gid("saga"), T0);
    Story msg = Fixtures.msgCheckedBack(gid("msg"), T0);
    assertThat(saga.history()).as("fixture: the saga has a history").hasSizeGreaterThan(3);
    assertThat(saga.history())
        .as("fixture: answers carry a latency")
        .anyMatch(entry -> entry.latency() != null);

    log().create(saga.first(), saga.historyOf(1));
    log().create(msg.first(), msg.historyOf(1));
    int longest = Math.max(saga.versions().size(), msg.versions().size());
    for (int v = 2; v <= longest; v++) {
      for (Story story : List.of(saga, msg)) {
        if (v <= story.versions().size()) {
          log().update(story.versions().get(v - 1), story.historyOf(v));
        }
      }
    }

    assertThat(log().history(gid("saga"))).containsExactlyElementsOf(saga.history());
    assertThat(log().history(gid("msg"))).containsExactlyElementsOf(msg.history());
  }

  @Test
  default void history_ofARefusedWrite_isNotStored() {
    Story story = Fixtures.tccCommitted(gid("tx"), T0);
    log().create(story.first(), story.historyOf(1));
    log().update(story.versions().get(1), story.historyOf(2));

    assertThatThrownBy(() -> log().update(story.versions().get(1), story.historyOf(2)))
        .isInstanceOf(VersionConflictException.class);
    assertThatThrownBy(() -> log().create(story.first(), story.historyOf(1)))
        .isInstanceOf(DuplicateGidException.class);

    assertThat(log().history(gid("tx")))
        .containsExactlyElementsOf(
            Stream.concat(story.historyOf(1).stream(), story.historyOf(2).stream()).toList());
  }

  @Test
  default void history_keepsEveryFieldOfAnEntry() {
    Instant at = T0.plusNanos(123_456_789);
    List<HistoryEntry> entries =
        List.of(
            new HistoryEntry(
                at,
                1,
                HistoryEntry.Kind.STATE,
                null,
                null,
                null,
                Status.BEGUN,
                null,
                0,
                null,
                "started"),
            new HistoryEntry(
                at,
                1,
                HistoryEntry.Kind.ANSWER,
                "b1",
                "action",
                null,
                null,
                "unknown",
                3,
                Duration.ofNanos(4_567_000),
                "x".repeat(HistoryEntry.MAX_DETAIL_CHARS + 10)),
            new HistoryEntry(
                at, 1, HistoryEntry.Kind.OPERATOR, null, "retry", null, null, null, 0, null, null));
    log().create(Fixtures.started(Mode.SAGA, gid("tx")).latest(), entries);

    assertThat(log().history(gid("tx"))).containsExactlyElementsOf(entries);
    assertThat(log().history(gid("tx")).get(1).detail()).hasSize(HistoryEntry.MAX_DETAIL_CHARS);
  }
}
