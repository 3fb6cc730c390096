package dev.pledge.example.shop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The payment's barrier against its real SQLite database, over HTTP. The gid is the test's name.
 */
class PaymentBarrierTest {
  private static final String PAYLOAD =
      "{\"orderId\":\"o-1\",\"account\":\"acct-01\",\"amount\":700}";

  @TempDir Path folder;
  private Payment payment;
  private String url;
  private String gid;

  @BeforeEach
  void start(TestInfo test) {
    gid = test.getTestMethod().orElseThrow().getName();
    payment = new Payment(folder.resolve("payment.db"), Faults.none());
    payment.open(Map.of("acct-01", 1_000L));
    url = payment.baseUrl();
  }

  @AfterEach
  void stop() {
    payment.close();
  }

  private Protocol.Answer op(String path, String op) {
    return Protocol.op(url + path, gid, "payment", op, PAYLOAD);
  }

  private long balance() {
    return payment.balances().get("acct-01");
  }

  @Test
  void duplicateCharge_debitsOnce_andAnswersADuplicate() {
    Protocol.Answer first = op("/saga/charge", "action");
    Protocol.Answer again = op("/saga/charge", "action");

    assertThat(first).isEqualTo(new Protocol.Answer(200, "{\"outcome\":\"ran\"}"));
    assertThat(again).isEqualTo(new Protocol.Answer(200, "{\"outcome\":\"duplicate\"}"));
    assertThat(balance()).isEqualTo(300);
    assertThat(payment.charge(gid, "payment")).isEqualTo("charged");
  }

  @Test
  void duplicateRefund_creditsOnce() {
    op("/saga/charge", "action");
    op("/saga/refund", "compensate");
    op("/saga/refund", "compensate");

    assertThat(balance()).isEqualTo(1_000);
    assertThat(payment.charge(gid, "payment")).isEqualTo("refunded");
  }

  @Test
  void refundBeforeCharge_isANullCompensation_andBlocksTheLateCharge() {
    Protocol.Answer refund = op("/saga/refund", "compensate");
    Protocol.Answer lateCharge = op("/saga/charge", "action");

    assertThat(refund.status()).isEqualTo(200);
    assertThat(refund.body()).contains("null_compensation");
    assertThat(lateCharge.status()).isEqualTo(409);
    assertThat(balance()).isEqualTo(1_000);
    assertThat(payment.charge(gid, "payment")).isNull();
    assertThat(payment.barrierProblems()).isEmpty();
  }

  @Test
  void insufficientFunds_isRefusedWith409_andTheSecondChargeOfAnotherGidStillWorks() {
    assertThat(op("/saga/charge", "action").status()).isEqualTo(200);
    Protocol.Answer second =
        Protocol.op(url + "/saga/charge", gid + "-2", "payment", "action", PAYLOAD);

    assertThat(second.status()).isEqualTo(409);
    assertThat(second.body()).contains("insufficient_funds");
    assertThat(balance()).isEqualTo(300);
  }

  @Test
  void twoPcHoldCaptureAndRelease_moveTheMoneyOnce() {
    assertThat(op("/2pc/prepare", "prepare").status()).isEqualTo(200);
    assertThat(balance()).isEqualTo(300);
    assertThat(op("/2pc/commit", "commit").status()).isEqualTo(200);
    assertThat(op("/2pc/commit", "commit").status()).isEqualTo(200);
    assertThat(payment.charge(gid, "payment")).isEqualTo("captured");

    String other = gid + "-rolled-back";
    Protocol.op(
        url + "/2pc/prepare",
        other,
        "payment",
        "prepare",
        "{\"orderId\":\"o-2\",\"account\":\"acct-01\",\"amount\":300}");
    Protocol.op(url + "/2pc/rollback", other, "payment", "rollback", "{}");
    Protocol.op(url + "/2pc/rollback", other, "payment", "rollback", "{}");
    assertThat(payment.charge(other, "payment")).isEqualTo("released");
    assertThat(balance()).isEqualTo(300);
  }

  @Test
  void twoPcRollbackBeforePrepare_blocksTheLatePrepare() {
    assertThat(op("/2pc/rollback", "rollback").status()).isEqualTo(200);
    assertThat(op("/2pc/prepare", "prepare").status()).isEqualTo(409);

    assertThat(balance()).isEqualTo(1_000);
    assertThat(payment.barrierStats())
        .containsEntry("rollback/null-compensation", 1L)
        .containsEntry("prepare/blocked", 1L);
  }
}
