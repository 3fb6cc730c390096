package dev.pledge.core.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import dev.pledge.core.history.HistoryEntry.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HistoryTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final Engine engine = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);

  private static List<BranchSpec> twoPcBranches(int count) {
    List<BranchSpec> branches = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      Map<Op, String> urls = new EnumMap<>(Op.class);
      for (Op op : Mode.TWO_PC.branchOps()) {
        urls.put(op, "http://127.0.0.1/" + op.label());
      }
      branches.add(new BranchSpec("b" + i, urls, "{}", List.of()));
    }
    return branches;
  }

  private Decision start(int branches) {
    return engine.start(
        new TransactionSpec(
            Gid.of("h"), Mode.TWO_PC, Duration.ofSeconds(30), twoPcBranches(branches), null, null),
        T0);
  }

  @Test
  void aWriteWithMoreThanTheBound_keepsStateChanges_andNotesWhatWasLeftOut() {
    Decision started = start(40);

    List<HistoryEntry> entries = History.ofStart(started, T0);

    assertThat(entries).hasSize(History.MAX_ENTRIES_PER_WRITE);
    assertThat(entries.get(0).kind()).isEqualTo(Kind.STATE);
    assertThat(entries.get(entries.size() - 1).kind()).isEqualTo(Kind.NOTE);
    assertThat(entries.get(entries.size() - 1).detail())
        .isEqualTo(
            (40 - (History.MAX_ENTRIES_PER_WRITE - 2))
                + " more calls and answers"
                + " of this write not recorded");
  }

  @Test
  void pastTheVersionBound_onlyStateChangesAreRecorded_afterOneNote() {
    Decision started = start(1);
    Transaction tx = started.next();
    Event answer = new Event.OpCompleted("b1", Op.PREPARE, 1, new Outcome.Unknown("503"));
    List<History.Noted> noted = List.of(new History.Noted(answer, Duration.ofMillis(3)));
    Transaction at = withVersion(tx, History.MAX_VERSIONS_RECORDED);
    Transaction bound = withVersion(tx, History.MAX_VERSIONS_RECORDED + 1);
    Transaction past = withVersion(tx, History.MAX_VERSIONS_RECORDED + 2);

    assertThat(History.of(at, noted, List.of(), started.effects(), T0))
        .extracting(HistoryEntry::kind)
        .containsExactly(Kind.ANSWER, Kind.CALL);
    assertThat(History.of(bound, noted, List.of(), started.effects(), T0))
        .extracting(HistoryEntry::kind)
        .containsExactly(Kind.NOTE);
    assertThat(History.of(past, noted, List.of(), started.effects(), T0)).isEmpty();
    assertThat(History.of(past, noted, started.fired(), started.effects(), T0))
        .extracting(HistoryEntry::kind)
        .containsExactly(Kind.STATE);
  }

  @Test
  void anAnswer_carriesOutcomeAttemptLatencyAndBoundedError() {
    Decision started = start(1);
    String longError = "e".repeat(2_000);
    Event answer = new Event.OpCompleted("b1", Op.PREPARE, 2, new Outcome.Unknown(longError));

    List<HistoryEntry> entries =
        History.of(
            started.next(),
            List.of(new History.Noted(answer, Duration.ofMillis(7))),
            List.of(),
            List.of(),
            T0);

    assertThat(entries).hasSize(1);
    HistoryEntry entry = entries.get(0);
    assertThat(entry.kind()).isEqualTo(Kind.ANSWER);
    assertThat(entry.subject()).isEqualTo("b1");
    assertThat(entry.op()).isEqualTo("prepare");
    assertThat(entry.outcome()).isEqualTo("unknown");
    assertThat(entry.attempt()).isEqualTo(2);
    assertThat(entry.latency()).isEqualTo(Duration.ofMillis(7));
    assertThat(entry.detail()).hasSize(HistoryEntry.MAX_DETAIL_CHARS).endsWith("…");
  }

  @Test
  void aForcedEvent_isRecordedAsTheOperatorsAction_neverAsAnAnswer_evenPastTheBound() {
    Decision started = start(1);
    Event refused =
        new Event.OpCompleted("b1", Op.PREPARE, 2, new Outcome.Failed("forced by an operator"));
    Event abort = new Event.AbortRequested();
    List<History.Noted> noted =
        List.of(
            History.Noted.forced(refused, "abort", "OPS-1: stuck"),
            History.Noted.forced(abort, "abort", "OPS-2"));

    for (long version :
        List.of(
            2L,
            History.MAX_VERSIONS_RECORDED,
            History.MAX_VERSIONS_RECORDED + 1,
            History.MAX_VERSIONS_RECORDED + 2)) {
      List<HistoryEntry> entries =
          History.of(withVersion(started.next(), version), noted, List.of(), started.effects(), T0);

      assertThat(entries)
          .as("version %d", version)
          .extracting(HistoryEntry::kind)
          .doesNotContain(Kind.ANSWER, Kind.REQUEST);
      List<HistoryEntry> forced = entries.stream().filter(e -> e.kind() == Kind.OPERATOR).toList();
      assertThat(forced).as("version %d", version).hasSize(2);
      assertThat(forced.get(0))
          .extracting(
              HistoryEntry::subject,
              HistoryEntry::op,
              HistoryEntry::outcome,
              HistoryEntry::attempt,
              HistoryEntry::detail)
          .containsExactly(
              "b1",
              "force abort",
              "failed",
              2,
              "prepare recorded as refused; reason: OPS-1: stuck");
      assertThat(forced.get(1))
          .extracting(HistoryEntry::subject, HistoryEntry::op, HistoryEntry::detail)
          .containsExactly(null, "force abort", "reason: OPS-2");
    }
  }

  @Test
  void aForcedEvent_isKept_whenAWriteHasMoreThanTheBound() {
    Decision started = start(40);
    Event skipped = new Event.OpCompleted("b7", Op.COMMIT, 3, Outcome.SUCCEEDED);

    List<HistoryEntry> entries =
        History.of(
            started.next(),
            List.of(History.Noted.forced(skipped, "skip-op", "done by hand")),
            started.fired(),
            started.effects(),
            T0);

    assertThat(entries).hasSize(History.MAX_ENTRIES_PER_WRITE);
    assertThat(entries.get(0).kind()).isEqualTo(Kind.OPERATOR);
    assertThat(entries.get(0).detail())
        .isEqualTo("commit recorded as done by hand; reason: done by hand");
  }

  private static Transaction withVersion(Transaction tx, long version) {
    return tx.withVersion(version);
  }
}
