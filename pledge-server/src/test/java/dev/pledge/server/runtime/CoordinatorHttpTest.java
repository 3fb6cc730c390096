package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The runtime against real HTTP participants on loopback: the JDK's HTTP server plays the services,
 * the coordinator calls them with the JDK's client, and the in-memory log stands in for the durable
 * one. Every wait is bounded.
 */
class CoordinatorHttpTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final RetryPolicy FAST =
      new RetryPolicy(
          Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.2, Duration.ofSeconds(2), 5);

  private HttpServer server;
  private String base;
  private final List<String> calls = new CopyOnWriteArrayList<>();

  /** Scripted answers by "branch/op": consumed one by one, then 200. */
  private final Map<String, List<Integer>> script = new ConcurrentHashMap<>();

  private final Map<String, String> producerBarrier = new ConcurrentHashMap<>();
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final InMemoryTransactionLog log = new InMemoryTransactionLog();
  private final Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
  private final List<ServerRuntime> runtimes = new ArrayList<>();
  private String gid;

  @BeforeEach
  void startParticipants(TestInfo test) throws IOException {
    gid = test.getTestMethod().orElseThrow().getName();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/op", this::op);
    server.createContext("/check", this::check);
    server.createContext("/inbox", this::inbox);
    server.createContext("/hang", this::hang);
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Holds every call to {@code /hang} unanswered until the test opens it. */
  private final CountDownLatch hanging = new CountDownLatch(1);

  private void hang(HttpExchange exchange) throws IOException {
    exchange.getRequestBody().readAllBytes();
    try {
      hanging.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    answer(exchange, 200, "{}");
  }

  @AfterEach
  void stop() {
    hanging.countDown();
    runtimes.forEach(ServerRuntime::close);
    server.stop(0);
  }

  private void op(HttpExchange exchange) throws IOException {
    String branch = exchange.getRequestHeaders().getFirst("Pledge-Branch");
    String op = exchange.getRequestHeaders().getFirst("Pledge-Op");
    String attempt = exchange.getRequestHeaders().getFirst("Pledge-Attempt");
    String mode = exchange.getRequestHeaders().getFirst("Pledge-Mode");
    exchange.getRequestBody().readAllBytes();
    List<Integer> answers = script.getOrDefault(branch + "/" + op, List.of());
    int status;
    synchronized (answers) {
      status = answers.isEmpty() ? 200 : answers.removeFirst();
    }
    calls.add(branch + "/" + op + "#" + attempt + "=" + status + " (" + mode + ")");
    answer(exchange, status, "{}");
  }

  private void check(HttpExchange exchange) throws IOException {
    String query = exchange.getRequestURI().getQuery();
    String asked = query.substring(query.indexOf("gid=") + 4);
    String row = producerBarrier.computeIfAbsent(asked, g -> "rolled_back");
    answer(exchange, 200, "{\"status\":\"" + row + "\"}");
  }

  private void inbox(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    received.add(
        exchange.getRequestHeaders().getFirst("Pledge-Message-Id")
            + " key="
            + exchange.getRequestHeaders().getFirst("Pledge-Key")
            + " topic="
            + exchange.getRequestHeaders().getFirst("Pledge-Topic")
            + " "
            + body);
    answer(exchange, 200, "");
  }

  private static void answer(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private Coordinator coordinator(AllowList allowList) {
    ServerRuntime runtime =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, FAST),
            log,
            new HttpEffects(FAST.callTimeout(), allowList),
            subscriptions,
            Duration.ofMillis(50));
    runtimes.add(runtime);
    return runtime.coordinator();
  }

  private BranchSpec branch(String id, Mode mode, List<String> after) {
    Map<Op, String> urls = new EnumMap<>(Op.class);
    for (Op op : mode.branchOps()) {
      urls.put(op, base + "/op");
    }
    return new BranchSpec(id, urls, "{\"branch\":\"" + id + "\"}", after);
  }

  private Transaction awaitFinal(Coordinator coordinator) {
    await().atMost(WAIT).until(() -> coordinator.load(Gid.of(gid)).isSettled());
    return coordinator.load(Gid.of(gid));
  }

  private void scriptAnswers(String key, Integer... statuses) {
    script.put(key, new ArrayList<>(List.of(statuses)));
  }

  @Test
  void pastTheBoundOfCallsInFlight_newTransactionsAreRefused_untilAnswersComeBack() {
    ServerRuntime runtime =
        ServerRuntime.start(
            RuntimeConfig.defaults(Duration.ofSeconds(30))
                .withPollInterval(Duration.ofMillis(50))
                .withMaxEffectsInFlight(2),
            new Engine(Limits.DEFAULT, FAST),
            log,
            new HttpEffects(Duration.ofSeconds(30), AllowList.loopbackOnly()),
            subscriptions,
            LongPolls.DEFAULT_MAX_WAITERS,
            List.of());
    runtimes.add(runtime);
    Coordinator coordinator = runtime.coordinator();
    Map<Op, String> hangs = new EnumMap<>(Op.class);
    for (Op op : Mode.SAGA.branchOps()) {
      hangs.put(op, base + "/hang");
    }
    java.util.function.IntFunction<TransactionSpec> saga =
        i ->
            new TransactionSpec(
                Gid.of(gid + "-" + i),
                Mode.SAGA,
                Duration.ofSeconds(30),
                List.of(new BranchSpec("s1", hangs, "{}", List.of())),
                List.of(),
                null);

    coordinator.begin(saga.apply(1));
    coordinator.begin(saga.apply(2));
    await().atMost(WAIT).until(() -> coordinator.effectsInFlight() == 2);

    assertThatThrownBy(() -> coordinator.begin(saga.apply(3)))
        .isInstanceOf(Coordinator.OverloadedException.class)
        .hasMessageContaining("at most 2");
    assertThat(log.load(Gid.of(gid + "-3"))).as("nothing recorded").isEmpty();
    assertThat(coordinator.begin(saga.apply(1)))
        .asInstanceOf(
            org.assertj.core.api.InstanceOfAssertFactories.type(Coordinator.Answer.Accepted.class))
        .extracting(accepted -> accepted.state().gid())
        .as("a replay of an accepted create is still answered")
        .isEqualTo(Gid.of(gid + "-1"));

    hanging.countDown();
    await().atMost(WAIT).until(() -> coordinator.effectsInFlight() == 0);
    coordinator.begin(saga.apply(3));
    assertThat(log.load(Gid.of(gid + "-3"))).isPresent();
  }

  @Test
  void sagaWhoseActionsSucceed_commitsRunningThemInOrder() {
    Coordinator coordinator = coordinator(AllowList.loopbackOnly());
    coordinator.begin(
        new TransactionSpec(
            Gid.of(gid),
            Mode.SAGA,
            Duration.ofSeconds(10),
            List.of(
                branch("s1", Mode.SAGA, List.of()),
                branch("s2", Mode.SAGA, List.of()),
                branch("s3", Mode.SAGA, List.of())),
            List.of(),
            null));

    assertThat(awaitFinal(coordinator).status()).isEqualTo(Status.COMMITTED);
    assertThat(calls)
        .containsExactly(
            "s1/action#1=200 (saga)", "s2/action#1=200 (saga)", "s3/action#1=200 (saga)");
  }

  @Test
  void sagaWhoseSecondActionSaysNo_compensatesInReverseOrder() {
    scriptAnswers("s2/action", 409);
    Coordinator coordinator = coordinator(AllowList.loopbackOnly());
    coordinator.begin(
        new TransactionSpec(
            Gid.of(gid),
            Mode.SAGA,
            Duration.ofSeconds(10),
            List.of(
                branch("s1", Mode.SAGA, List.of()),
                branch("s2", Mode.SAGA, List.of()),
                branch("s3", Mode.SAGA, List.of())),
            List.of(),
            null));

    assertThat(awaitFinal(coordinator).status()).isEqualTo(Status.ABORTED);
    assertThat(calls)
        .containsExactly(
            "s1/action#1=200 (saga)",
            "s2/action#1=409 (saga)",
            "s2/compensate#1=200 (saga)",
            "s1/compensate#1=200 (saga)");
  }

  @Test
  void twoPcWithTransientErrors_retriesUnknownAndCommitsEveryBranch() {
    scriptAnswers("b2/prepare", 503, 500);
    scriptAnswers("b1/commit", 502);
    Coordinator coordinator = coordinator(AllowList.loopbackOnly());
    coordinator.begin(
        new TransactionSpec(
            Gid.of(gid),
            Mode.TWO_PC,
            Duration.ofSeconds(10),
            List.of(branch("b1", Mode.TWO_PC, List.of()), branch("b2", Mode.TWO_PC, List.of())),
            List.of(),
            null));

    Transaction done = awaitFinal(coordinator);
    assertThat(done.status()).isEqualTo(Status.COMMITTED);
    assertThat(done.branch("b2").op(Op.PREPARE).attempts()).isEqualTo(3);
    assertThat(done.branch("b1").op(Op.COMMIT).attempts()).isEqualTo(2);
    assertThat(calls).filteredOn(c -> c.contains("rollback")).isEmpty();
  }

  @Test
  void tccCommittedByTheInitiator_confirmsEveryBranch() {
    Coordinator coordinator = coordinator(AllowList.loopbackOnly());
    Gid id = Gid.of(gid);
    coordinator.begin(
        new TransactionSpec(id, Mode.TCC, Duration.ofSeconds(10), List.of(), List.of(), null));
    assertThat(
            coordinator.request(id, new Event.BranchRegistered(branch("t1", Mode.TCC, List.of()))))
        .isInstanceOf(Coordinator.Answer.Accepted.class);
    assertThat(
            coordinator.request(id, new Event.BranchRegistered(branch("t2", Mode.TCC, List.of()))))
        .isInstanceOf(Coordinator.Answer.Accepted.class);
    assertThat(coordinator.request(id, new Event.CommitRequested()))
        .isInstanceOf(Coordinator.Answer.Accepted.class);

    assertThat(awaitFinal(coordinator).status()).isEqualTo(Status.COMMITTED);
    assertThat(calls).containsExactlyInAnyOrder("t1/confirm#1=200 (tcc)", "t2/confirm#1=200 (tcc)");
    assertThat(coordinator.request(id, new Event.AbortRequested()))
        .isInstanceOf(Coordinator.Answer.Rejected.class);
  }

  @Test
  void msgNeverCommittedByTheProducer_isSettledByCheckBack_andDeliveredInKeyOrder() {
    producerBarrier.put(gid, "committed");
    subscriptions.put(new SubscriptionStore.Subscription("shipping", "orders", base + "/inbox"));
    Coordinator coordinator = coordinator(AllowList.loopbackOnly());
    coordinator.begin(
        new TransactionSpec(
            Gid.of(gid),
            Mode.MSG,
            Duration.ofMillis(300),
            List.of(),
            List.of(
                new MessageSpec("orders", "o-1", "{\"n\":1}", Map.of()),
                new MessageSpec("orders", "o-1", "{\"n\":2}", Map.of())),
            base + "/check"));

    Transaction done = awaitFinal(coordinator);
    assertThat(done.status()).isEqualTo(Status.COMMITTED);
    assertThat(received)
        .containsExactly(
            gid + "#1 key=o-1 topic=orders {\"n\":1}", gid + "#2 key=o-1 topic=orders {\"n\":2}");
  }

  @Test
  void msgWhoseProducerRolledBack_isAbortedAndNeverDelivered() {
    subscriptions.put(new SubscriptionStore.Subscription("shipping", "orders", base + "/inbox"));
    Coordinator coordinator = coordinator(AllowList.loopbackOnly());
    coordinator.begin(
        new TransactionSpec(
            Gid.of(gid),
            Mode.MSG,
            Duration.ofMillis(200),
            List.of(),
            List.of(new MessageSpec("orders", null, "{}", Map.of())),
            base + "/check"));

    assertThat(awaitFinal(coordinator).status()).isEqualTo(Status.ABORTED);
    assertThat(received).isEmpty();
    assertThat(producerBarrier).containsEntry(gid, "rolled_back");
  }

  @Test
  void participantOutsideTheAllowList_isNeverCalled_andTheSagaTimesOut() {
    Coordinator coordinator = coordinator(AllowList.loopbackOnly());
    Map<Op, String> urls = new EnumMap<>(Op.class);
    urls.put(Op.ACTION, "http://192.0.2.1/op");
    urls.put(Op.COMPENSATE, "http://192.0.2.1/op");
    coordinator.begin(
        new TransactionSpec(
            Gid.of(gid),
            Mode.SAGA,
            Duration.ofMillis(500),
            List.of(new BranchSpec("s1", urls, "{}", List.of())),
            List.of(),
            null));

    await()
        .atMost(WAIT)
        .until(() ->
            coordinator.load(Gid.of(gid)).flag() != null
                || coordinator.load(Gid.of(gid)).status() == Status.ABORTING);
    Transaction state = coordinator.load(Gid.of(gid));
    assertThat(state.status()).isEqualTo(Status.ABORTING);
    assertThat(state.branch("s1").op(Op.ACTION).lastError()).contains("allow-list");
    assertThat(calls).isEmpty();
  }

  @Test
  void aNewCoordinatorOnTheSameLog_recoversAndFinishesWhatWasInFlight() {
    // The first coordinator logs the commit decision; it is closed before the commits are answered.
    scriptAnswers("b1/commit", 503, 503, 503, 503, 503, 503, 503, 503);
    Coordinator first = coordinator(AllowList.loopbackOnly());
    first.begin(
        new TransactionSpec(
            Gid.of(gid),
            Mode.TWO_PC,
            Duration.ofSeconds(10),
            List.of(branch("b1", Mode.TWO_PC, List.of())),
            List.of(),
            null));
    await().atMost(WAIT).until(() -> first.load(Gid.of(gid)).status() == Status.COMMITTING);
    first.close();
    script.get("b1/commit").clear();
    int seen = calls.size();

    Coordinator second = coordinator(AllowList.loopbackOnly());

    assertThat(awaitFinal(second).status()).isEqualTo(Status.COMMITTED);
    assertThat(calls.subList(seen, calls.size()))
        .anyMatch(c -> c.startsWith("b1/commit#") && c.endsWith("=200 (2pc)"));
  }
}
