package dev.pledge.testkit.contract;

import static dev.pledge.testkit.contract.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Event;
import dev.pledge.core.spi.VersionConflictException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a coordinator starting up reads: the unsettled transactions, and all of it after reopening.
 */
interface RecoveryContract extends LogContractPart {
  @Test
  default void unsettled_excludesSettledTransactions_butKeepsACommittedMsgWithPendingDeliveries() {
    List<Story> unsettled =
        List.of(
            Fixtures.started(Mode.TCC, gid("01-tcc-begun")),
            Fixtures.twoPcFlagged(gid("03-2pc-committing"), T0),
            Fixtures.msgDelivering(gid("05-msg-committed-delivering"), T0),
            Fixtures.started(Mode.MSG, gid("07-msg-prepared")),
            Fixtures.msgCommitting(gid("09-msg-committing"), T0),
            Fixtures.tccTimedOut(gid("11-tcc-aborting"), T0),
            Fixtures.msgCheckedBack(gid("13-msg-committed-retrying"), T0));
    List<Story> settled =
        List.of(
            Fixtures.sagaCommitted(gid("02-saga-committed"), T0),
            Fixtures.twoPcRolledBack(gid("04-2pc-aborted"), T0),
            Fixtures.msgDelivered(gid("06-msg-delivered"), T0),
            Fixtures.msgAborted(gid("08-msg-aborted"), T0),
            Fixtures.msgCommittedWithoutSubscribers(gid("10-msg-no-subscribers"), T0),
            Fixtures.sagaCompensated(gid("12-saga-compensated"), T0));
    assertThat(unsettled.get(2).latest().status()).as("fixture").isEqualTo(Status.COMMITTED);
    settled.forEach(s -> assertThat(s.latest().isSettled()).as("fixture").isTrue());
    unsettled.forEach(s -> assertThat(s.latest().isSettled()).as("fixture").isFalse());
    settled.forEach(this::createAll);
    unsettled.forEach(this::createAll);

    assertThat(log().unsettled(null, 100))
        .containsExactlyElementsOf(unsettled.stream().map(Story::latest).toList());
  }

  @Test
  default void unsettled_pagesThroughByGid_afterTheGivenGid() {
    List<Mode> modes = List.of(Mode.SAGA, Mode.TCC, Mode.TWO_PC, Mode.MSG);
    List<Transaction> expected = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      Gid gid = gid(String.format("%02d", i));
      if (i % 2 == 0) {
        createAll(Fixtures.twoPcCommitted(gid, T0));
      } else {
        Story story = Fixtures.started(modes.get((i / 2) % modes.size()), gid);
        createAll(story);
        expected.add(story.latest());
      }
    }

    List<Transaction> walked = new ArrayList<>();
    Gid after = null;
    for (int page = 0; page < 10; page++) {
      List<Transaction> items = log().unsettled(after, 4);
      assertThat(items).as("page %d", page).hasSizeLessThanOrEqualTo(4);
      if (items.isEmpty()) {
        break;
      }
      walked.addAll(items);
      after = items.get(items.size() - 1).gid();
    }

    assertThat(walked).containsExactlyElementsOf(expected);
    assertThat(log().unsettled(null, 4)).containsExactlyElementsOf(expected.subList(0, 4));
    assertThat(log().unsettled(gid("04"), 2)).containsExactly(expected.get(2), expected.get(3));
    assertThat(log().unsettled(gid("19"), 4)).isEmpty();
    assertThat(log().unsettled(gid("00"), 1)).containsExactly(expected.get(0));
  }

  @Test
  default void unsettled_dropsATransactionOnceItSettles() {
    Story story = Fixtures.msgDelivered(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    log().create(versions.get(0));
    for (Transaction next : versions.subList(1, versions.size() - 1)) {
      log().update(next);
      assertThat(log().unsettled(null, 10)).containsExactly(next);
    }

    log().update(story.latest());

    assertThat(log().unsettled(null, 10)).isEmpty();
  }

  @Test
  default void everythingWritten_isThereAfterReopening() {
    Story story = Fixtures.msgCheckedBack(gid("tx"), T0);
    Story other = Fixtures.started(Mode.TCC, gid("other"), T0.plusSeconds(1), Fixtures.TIMEOUT);
    createAll(story);
    createAll(other);

    reopenLog();

    assertThat(log().load(gid("tx"))).contains(story.latest());
    assertThat(log().load(gid("other"))).contains(other.latest());
    assertThat(log().history(gid("tx"))).containsExactlyElementsOf(story.history());
    assertThat(log().unsettled(null, 10)).containsExactly(other.latest(), story.latest());
    assertThatThrownBy(() -> log().update(story.versions().get(1)))
        .isInstanceOf(VersionConflictException.class);
    Transaction aborted = other.on(new Event.AbortRequested()).latest();
    log().update(aborted);
    assertThat(log().load(gid("other"))).contains(aborted);
  }
}
