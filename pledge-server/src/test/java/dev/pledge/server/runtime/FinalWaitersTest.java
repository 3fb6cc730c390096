package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class FinalWaitersTest {
  private final Engine engine = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);
  private final Instant now = Instant.parse("2026-01-01T00:00:00Z");

  private Transaction begun(String gid) {
    return engine
        .start(new TransactionSpec(Gid.of(gid), Mode.TCC, null, List.of(), List.of(), null), now)
        .next();
  }

  @Test
  void pastTheBound_aLongPollIsRefused_andTheSlotFreesWhenTheWaiterLeaves() {
    FinalWaiters waiters = new FinalWaiters(1);
    Transaction tx = begun("w-1");
    Transaction aborted = engine.decide(tx, new Event.AbortRequested(), now).next();
    CompletableFuture<Transaction> first =
        CompletableFuture.supplyAsync(
            () -> waiters.await(tx.gid(), Duration.ofSeconds(30), () -> tx));
    await().atMost(Duration.ofSeconds(10)).until(() -> waiters.waiting() == 1);

    assertThatThrownBy(() -> waiters.await(tx.gid(), Duration.ofSeconds(1), () -> tx))
        .isInstanceOf(LongPolls.TooManyWaitersException.class)
        .hasMessageContaining("at most 1");

    waiters.finalized(aborted);
    await().atMost(Duration.ofSeconds(10)).until(first::isDone);
    assertThat(first.join().isFinal()).isTrue();
    assertThat(waiters.waiting()).isZero();
    assertThat(waiters.await(tx.gid(), Duration.ZERO, () -> tx)).isSameAs(tx);
  }

  @Test
  void aTransactionAlreadyFinal_isAnsweredWithoutWaiting() {
    FinalWaiters waiters = new FinalWaiters(4);
    Transaction tx = begun("w-2");
    Transaction aborted = engine.decide(tx, new Event.AbortRequested(), now).next();

    assertThat(waiters.await(tx.gid(), Duration.ofSeconds(30), () -> aborted)).isSameAs(aborted);
    assertThat(waiters.await(tx.gid(), Duration.ofSeconds(30), () -> null)).isNull();
  }
}
