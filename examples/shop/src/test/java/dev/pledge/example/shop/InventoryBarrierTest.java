package dev.pledge.example.shop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inventory's barrier against its real SQLite database, over HTTP: duplicates, null
 * compensation, hanging, business refusals and lost answers, for saga and 2pc ops. The gid is the
 * test's name.
 */
class InventoryBarrierTest {
  private static final String PAYLOAD = "{\"orderId\":\"o-1\",\"sku\":\"sku-1\",\"qty\":3}";

  @TempDir Path folder;
  private Inventory inventory;
  private String url;
  private String gid;

  @BeforeEach
  void start(TestInfo test) {
    gid = test.getTestMethod().orElseThrow().getName();
    inventory = new Inventory(folder.resolve("inventory.db"), Faults.none());
    inventory.stock(Map.of("sku-1", 10L));
    url = inventory.baseUrl();
  }

  @AfterEach
  void stop() {
    inventory.close();
  }

  private Protocol.Answer op(String path, String op) {
    return Protocol.op(url + path, gid, "inventory", op, PAYLOAD);
  }

  private long onHand() {
    return inventory.onHand().get("sku-1");
  }

  @Test
  void duplicateReserve_takesStockOnce_andAnswersADuplicate() {
    Protocol.Answer first = op("/saga/reserve", "action");
    Protocol.Answer again = op("/saga/reserve", "action");

    assertThat(first).isEqualTo(new Protocol.Answer(200, "{\"outcome\":\"ran\"}"));
    assertThat(again).isEqualTo(new Protocol.Answer(200, "{\"outcome\":\"duplicate\"}"));
    assertThat(onHand()).isEqualTo(7);
    assertThat(inventory.reservation(gid, "inventory")).isEqualTo("reserved");
    assertThat(inventory.barrierStats())
        .containsEntry("action/done", 1L)
        .containsEntry("repeats", 1L);
  }

  @Test
  void duplicateRelease_putsStockBackOnce() {
    op("/saga/reserve", "action");
    assertThat(op("/saga/release", "compensate").status()).isEqualTo(200);
    assertThat(op("/saga/release", "compensate").status()).isEqualTo(200);

    assertThat(onHand()).isEqualTo(10);
    assertThat(inventory.reservation(gid, "inventory")).isEqualTo("released");
  }

  @Test
  void releaseBeforeReserve_isANullCompensation_andBlocksTheLateReserve() {
    Protocol.Answer release = op("/saga/release", "compensate");
    Protocol.Answer lateReserve = op("/saga/reserve", "action");

    assertThat(release.status()).isEqualTo(200);
    assertThat(release.body()).contains("null_compensation");
    assertThat(lateReserve.status()).isEqualTo(409);
    assertThat(lateReserve.body()).contains("blocked");
    assertThat(onHand()).isEqualTo(10);
    assertThat(inventory.reservation(gid, "inventory")).isNull();
    assertThat(inventory.barrierStats())
        .containsEntry("compensate/null-compensation", 1L)
        .containsEntry("action/blocked", 1L);
    assertThat(inventory.barrierProblems()).isEmpty();
  }

  @Test
  void outOfStock_isRefusedWith409_leavesNoRow_soARetryChecksAgain() {
    Protocol.Answer refused =
        Protocol.op(
            url + "/saga/reserve",
            gid,
            "inventory",
            "action",
            "{\"orderId\":\"o-1\",\"sku\":\"sku-1\",\"qty\":11}");
    Protocol.Answer again =
        Protocol.op(
            url + "/saga/reserve",
            gid,
            "inventory",
            "action",
            "{\"orderId\":\"o-1\",\"sku\":\"sku-1\",\"qty\":1}");
    Protocol.Answer release = op("/saga/release", "compensate");

    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.body()).contains("out_of_stock");
    // A refusal rolls back with its barrier row: the retry is checked again, and now fits.
    assertThat(again.status()).isEqualTo(200);
    assertThat(release.status()).isEqualTo(200);
    assertThat(release.body()).contains("ran");
    assertThat(onHand()).isEqualTo(10);
  }

  @Test
  void twoPcPrepareThenCommitTwice_sellsTheHeldStockOnce() {
    assertThat(op("/2pc/prepare", "prepare").status()).isEqualTo(200);
    assertThat(inventory.reservation(gid, "inventory")).isEqualTo("held");
    assertThat(op("/2pc/commit", "commit").status()).isEqualTo(200);
    assertThat(op("/2pc/commit", "commit").status()).isEqualTo(200);

    assertThat(onHand()).isEqualTo(7);
    assertThat(inventory.reservation(gid, "inventory")).isEqualTo("committed");
  }

  @Test
  void twoPcRollbackBeforePrepare_isANullRollback_andBlocksTheLatePrepare() {
    assertThat(op("/2pc/rollback", "rollback").status()).isEqualTo(200);
    assertThat(op("/2pc/prepare", "prepare").status()).isEqualTo(409);
    assertThat(op("/2pc/rollback", "rollback").status()).isEqualTo(200);

    assertThat(onHand()).isEqualTo(10);
    assertThat(inventory.reservation(gid, "inventory")).isNull();
    assertThat(inventory.barrierProblems()).isEmpty();
  }

  @Test
  void twoPcRollbackAfterPrepare_putsTheHeldStockBack_andACommitAfterItFailsAs5xx() {
    op("/2pc/prepare", "prepare");
    assertThat(op("/2pc/rollback", "rollback").status()).isEqualTo(200);
    Protocol.Answer commit = op("/2pc/commit", "commit");

    // A protocol violation by the caller: the held entry is gone, the commit fails (unknown).
    assertThat(commit.status()).isEqualTo(500);
    assertThat(commit.body()).contains("is not held");
    assertThat(onHand()).isEqualTo(10);
    assertThat(inventory.reservation(gid, "inventory")).isEqualTo("rolled_back");
    assertThat(inventory.barrierProblems()).isEmpty();
  }

  @Test
  void lostAnswers_theRetriesAreAnsweredFromTheBarrier_andStockIsTakenOnce() {
    inventory.close();
    // Every other request, on average, does the work and then answers 500.
    inventory =
        new Inventory(
            folder.resolve("inventory.db"),
            new Faults(new Faults.Rates(0, 0, 0, 0.5, Duration.ZERO), 42));
    url = inventory.baseUrl();
    int fiveHundreds = 0;
    Protocol.Answer answer;
    do {
      answer = op("/saga/reserve", "action");
      fiveHundreds += answer.status() == 500 ? 1 : 0;
    } while (answer.status() == 500 && fiveHundreds < 50);

    assertThat(answer.status()).isEqualTo(200);
    assertThat(onHand()).isEqualTo(7);
    assertThat(inventory.barrierStats()).containsEntry("repeats", (long) fiveHundreds);
  }
}
