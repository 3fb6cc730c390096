package dev.pledge.testkit.contract;

import static dev.pledge.testkit.contract.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Event;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.core.spi.TransactionLog.Page;
import dev.pledge.core.spi.TransactionLog.Query;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Paging through the log for the API and the console: filters, cursors, counts, query checks. */
interface PageContract extends LogContractPart {
  /**
   * Creates {@code count} transactions of every mode and several statuses, one a second (so their
   * creation times, too, say which is newer), and returns them oldest first.
   */
  private List<Transaction> createMixed(int count) {
    List<Fixtures.Shape> shapes =
        List.of(
            Fixtures::sagaCommitted,
            Fixtures::tccCommitted,
            Fixtures::twoPcRolledBack,
            Fixtures::msgDelivering,
            (gid, start) -> Fixtures.started(Mode.SAGA, gid, start, Fixtures.TIMEOUT),
            Fixtures::tccTimedOut,
            Fixtures::twoPcCommitted,
            Fixtures::msgAborted);
    List<Transaction> created = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Story story =
          shapes.get(i % shapes.size()).make(gid(String.format("%03d", i)), T0.plusSeconds(i));
      createAll(story);
      created.add(story.latest());
    }
    return created;
  }

  @Test
  default void page_listsNewestFirst() {
    List<Transaction> created = createMixed(6);

    Page page = log().page(new Query(null, null, 10, null));

    assertThat(page.items()).containsExactlyElementsOf(created.reversed());
    assertThat(page.nextCursor()).isNull();
  }

  @Test
  default void page_ofEmptyLog_isEmptyAndLast() {
    Page page = log().page(new Query(null, null, 10, null));

    assertThat(page.items()).isEmpty();
    assertThat(page.nextCursor()).isNull();
  }

  @Test
  default void page_filtersByStatus() {
    List<Transaction> created = createMixed(16);

    for (Status status : Status.values()) {
      assertThat(log().page(new Query(status, null, Query.MAX_LIMIT, null)).items())
          .as("status %s", status)
          .containsExactlyElementsOf(
              created.reversed().stream().filter(tx -> tx.status() == status).toList());
    }
  }

  @Test
  default void page_filtersByMode() {
    List<Transaction> created = createMixed(16);

    for (Mode mode : Mode.values()) {
      assertThat(log().page(new Query(null, mode, Query.MAX_LIMIT, null)).items())
          .as("mode %s", mode)
          .containsExactlyElementsOf(
              created.reversed().stream().filter(tx -> tx.mode() == mode).toList());
    }
  }

  @Test
  default void page_filtersByStatusAndMode() {
    List<Transaction> created = createMixed(16);

    Page committedSagas = log().page(new Query(Status.COMMITTED, Mode.SAGA, Query.MAX_LIMIT, null));
    Page abortedMsgs = log().page(new Query(Status.ABORTED, Mode.MSG, Query.MAX_LIMIT, null));
    Page preparedTcc = log().page(new Query(Status.PREPARED, Mode.TCC, Query.MAX_LIMIT, null));

    assertThat(committedSagas.items())
        .hasSize(2)
        .containsExactlyElementsOf(
            created.reversed().stream()
                .filter(tx -> tx.status() == Status.COMMITTED && tx.mode() == Mode.SAGA)
                .toList());
    assertThat(abortedMsgs.items())
        .hasSize(2)
        .allMatch(tx -> tx.status() == Status.ABORTED && tx.mode() == Mode.MSG);
    assertThat(preparedTcc.items()).isEmpty();
    assertThat(preparedTcc.nextCursor()).isNull();
  }

  @Test
  default void page_cursorWalksEveryPageWithoutGapOrDuplicate() {
    List<Transaction> created = createMixed(23);

    List<Page> pages = walk(null, null, 5);

    assertThat(pages).extracting(p -> p.items().size()).containsExactly(5, 5, 5, 5, 3);
    assertThat(pages.stream().flatMap(p -> p.items().stream()))
        .containsExactlyElementsOf(created.reversed());
  }

  @Test
  default void page_cursorWalksAFilteredListWithoutGapOrDuplicate() {
    List<Transaction> created = createMixed(40);
    List<Transaction> expected =
        created.reversed().stream()
            .filter(tx -> tx.mode() == Mode.TCC && tx.status() == Status.ABORTING)
            .toList();
    assertThat(expected).as("fixture").hasSize(5);

    List<Page> pages = walk(Status.ABORTING, Mode.TCC, 2);

    assertThat(pages).extracting(p -> p.items().size()).containsExactly(2, 2, 1);
    assertThat(pages.stream().flatMap(p -> p.items().stream())).containsExactlyElementsOf(expected);
  }

  @Test
  default void page_thatEndsExactlyAtTheLastItem_hasNoCursor() {
    List<Transaction> created = createMixed(10);

    List<Page> pages = walk(null, null, 5);

    assertThat(pages).hasSize(2);
    assertThat(pages.get(1).items()).containsExactlyElementsOf(created.reversed().subList(5, 10));
  }

  @Test
  default void page_cursorIsStable_whileTransactionsAreCreatedAndUpdated() {
    List<Story> stories = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      Story story = Fixtures.twoPcCommitted(gid(String.format("%02d", i)), T0.plusSeconds(i));
      log().create(story.first());
      stories.add(story);
    }

    List<Gid> walked = new ArrayList<>();
    String cursor = null;
    int round = 0;
    do {
      Page page = log().page(new Query(null, null, 4, cursor));
      page.items().forEach(tx -> walked.add(tx.gid()));
      cursor = page.nextCursor();
      // Between pages, the oldest transaction moves on and a new one arrives: neither may shift
      // the walk.
      Story oldest = stories.get(0);
      log().update(oldest.versions().get(round + 1));
      Instant later = T0.plus(Duration.ofHours(1)).plusSeconds(round);
      log()
          .create(
              Fixtures.started(Mode.SAGA, gid("new-" + round), later, Fixtures.TIMEOUT).latest());
      round++;
    } while (cursor != null && round < 10);

    assertThat(walked)
        .containsExactlyElementsOf(stories.reversed().stream().map(s -> s.first().gid()).toList());
  }

  @Test
  default void page_filtersByTextInTheGid_caseSensitively() {
    List<Transaction> created = createMixed(12);
    log().create(Fixtures.started(Mode.SAGA, gid("Order-7"), T0, Fixtures.TIMEOUT).latest());
    log().create(Fixtures.started(Mode.TCC, gid("order-7b"), T0, Fixtures.TIMEOUT).latest());

    assertThat(log().page(new Query(null, null, "order-7", null, null, 10, null)).items())
        .extracting(Transaction::gid)
        .containsExactly(gid("order-7b"));
    assertThat(log().page(new Query(null, null, "-00", null, null, 10, null)).items())
        .containsExactlyElementsOf(
            created.reversed().stream().filter(tx -> tx.gid().value().contains("-00")).toList())
        .hasSize(10);
    assertThat(log().page(new Query(null, null, "nowhere", null, null, 10, null)).items())
        .isEmpty();
  }

  @Test
  default void page_ofDeadLetters_listsTransactionsHoldingADeadDelivery_byItsSubscription() {
    createMixed(6); // msgs among them, none with a dead delivery
    Story billing = Fixtures.msgDeadTo(gid("dead-billing"), T0.plusSeconds(20), "billing");
    Story archive = Fixtures.msgDeadTo(gid("dead-archive"), T0.plusSeconds(21), "archive");
    createAll(billing);
    createAll(archive);
    assertThat(billing.latest().deadSubscriptions()).containsExactly("billing");

    assertThat(log().page(Query.deadLetters(null, 10, null)).items())
        .containsExactly(archive.latest(), billing.latest());
    assertThat(log().page(Query.deadLetters("billing", 10, null)).items())
        .containsExactly(billing.latest());
    assertThat(log().page(Query.deadLetters("archive", 10, null)).items())
        .containsExactly(archive.latest());
    // A name inside another's is not a match; nor is one with nothing dead.
    assertThat(log().page(Query.deadLetters("bill", 10, null)).items()).isEmpty();
    assertThat(log().page(Query.deadLetters("shipping", 10, null)).items()).isEmpty();

    Page first = log().page(Query.deadLetters(null, 1, null));
    assertThat(first.items()).containsExactly(archive.latest());
    Page second = log().page(Query.deadLetters(null, 1, first.nextCursor()));
    assertThat(second.items()).containsExactly(billing.latest());
    assertThat(second.nextCursor()).isNull();
  }

  @Test
  default void page_ofDeadLetters_dropsATransactionOnceNothingInItIsDead() {
    Story story = Fixtures.msgDeadTo(gid("dead-then-redriven"), T0, "archive");
    createAll(story);
    int written = story.versions().size();
    String messageId = story.latest().messages().get(2).messageId();

    story.on(new Event.Redrive(messageId, "archive"));
    for (Transaction next : story.versions().subList(written, story.versions().size())) {
      log().update(next, story.historyOf(next.version()));
    }

    assertThat(story.latest().deadSubscriptions()).isEmpty();
    assertThat(log().page(Query.deadLetters(null, 10, null)).items()).isEmpty();
    assertThat(log().load(story.latest().gid())).contains(story.latest());
  }

  @Test
  default void query_ofDeadLettersToABadName_isRefused() {
    assertThatThrownBy(() -> Query.deadLetters("a,b", 10, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadTo must match [A-Za-z0-9._:-]{1,128}, got 'a,b'");
    assertThatThrownBy(() -> new Query(null, null, null, null, null, false, "billing", 10, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadTo 'billing' requires withDeadLetters");
  }

  @Test
  default void page_filtersByCreationTime_afterInclusiveBeforeExclusive() {
    List<Transaction> created = createMixed(10); // created at T0 + 0 s .. T0 + 9 s

    Page middle =
        log()
            .page(
                new Query(
                    null, null, null, T0.plusSeconds(3), T0.plusSeconds(7), Query.MAX_LIMIT, null));
    Page older = log().page(new Query(null, null, null, null, T0.plusSeconds(2), 10, null));

    assertThat(middle.items()).containsExactlyElementsOf(created.subList(3, 7).reversed());
    assertThat(older.items()).containsExactlyElementsOf(created.subList(0, 2).reversed());
  }

  @Test
  default void page_cursorWalksAListFilteredByEveryCriterion() {
    List<Transaction> created = createMixed(64);
    Query first =
        new Query(
            Status.COMMITTED, Mode.SAGA, "-0", T0.plusSeconds(1), T0.plusSeconds(60), 2, null);
    List<Transaction> expected = created.reversed().stream().filter(first::matches).toList();
    assertThat(expected).as("fixture").hasSizeGreaterThan(2);

    List<Transaction> walked = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Page page =
          log()
              .page(
                  new Query(
                      first.status(),
                      first.mode(),
                      first.gidContains(),
                      first.createdAfter(),
                      first.createdBefore(),
                      first.limit(),
                      cursor));
      walked.addAll(page.items());
      cursor = page.nextCursor();
    } while (cursor != null && ++pages < 64);

    assertThat(walked).containsExactlyElementsOf(expected);
  }

  @Test
  default void query_rejectsGidTextOutsideTheGidAlphabet() {
    for (String text : new String[] {"", "a%", "a b", "é", "x".repeat(129)}) {
      assertThatThrownBy(() -> new Query(null, null, text, null, null, 10, null))
          .as("text '%s'", text)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("gidContains");
    }
  }

  @Test
  default void counts_ofEmptyLog_isEmpty() {
    assertThat(log().counts()).isEmpty();
  }

  @Test
  default void counts_oneRowPerModeAndStatus_followingUpdates() {
    List<Transaction> created = createMixed(16);
    Map<String, Long> expected = new TreeMap<>();
    for (Transaction tx : created) {
      expected.merge(tx.mode().code() + " " + tx.status().label(), 1L, Long::sum);
    }

    assertThat(countsByKey()).isEqualTo(expected);

    Story story = Fixtures.twoPcCommitted(gid("moves"), T0);
    log().create(story.first());
    expected.merge("2pc " + story.first().status().label(), 1L, Long::sum);
    assertThat(countsByKey()).isEqualTo(expected);
    for (Transaction next : story.versions().subList(1, story.versions().size())) {
      log().update(next);
    }
    expected.merge("2pc " + story.first().status().label(), -1L, Long::sum);
    expected.values().removeIf(n -> n == 0);
    expected.merge("2pc " + story.latest().status().label(), 1L, Long::sum);
    assertThat(countsByKey()).isEqualTo(expected);
  }

  private Map<String, Long> countsByKey() {
    Map<String, Long> out = new TreeMap<>();
    for (TransactionLog.Count count : log().counts()) {
      assertThat(count.transactions()).as("%s", count).isPositive();
      assertThat(out.put(count.mode().code() + " " + count.status().label(), count.transactions()))
          .as("one row for %s", count)
          .isNull();
    }
    return out;
  }

  @Test
  default void page_withMaximumLimit_returnsEverythingAtOnce() {
    List<Transaction> created = createMixed(Query.MAX_LIMIT);

    Page page = log().page(new Query(null, null, Query.MAX_LIMIT, null));

    assertThat(page.items()).containsExactlyElementsOf(created.reversed());
    assertThat(page.nextCursor()).isNull();
  }

  /** Every page of a query, following cursors; fails if the walk does not end. */
  private List<Page> walk(Status status, Mode mode, int limit) {
    List<Page> pages = new ArrayList<>();
    Set<String> cursors = new HashSet<>();
    String cursor = null;
    do {
      Page page = log().page(new Query(status, mode, limit, cursor));
      assertThat(page.items()).as("page %d", pages.size()).hasSizeLessThanOrEqualTo(limit);
      pages.add(page);
      cursor = page.nextCursor();
      assertThat(cursor == null || cursors.add(cursor)).as("cursor %s is new", cursor).isTrue();
    } while (cursor != null && pages.size() <= Query.MAX_LIMIT);
    assertThat(cursor).as("the walk ends").isNull();
    return pages;
  }

  @Test
  default void query_rejectsLimitZeroNegativeAndAboveMaximum() {
    for (int limit : new int[] {0, -1, Query.MAX_LIMIT + 1, Integer.MAX_VALUE}) {
      assertThatThrownBy(() -> new Query(null, null, limit, null))
          .as("limit %d", limit)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Integer.toString(limit));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, Query.MAX_LIMIT})
  default void query_acceptsLimitsFromOneToMaximum(int limit) {
    assertThatCode(() -> new Query(Status.BEGUN, Mode.SAGA, limit, null))
        .doesNotThrowAnyException();
  }
}
