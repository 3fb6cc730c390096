package dev.pledge.bench.load;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The services that take part in the benchmark's global transactions, served over HTTP in the bench
 * process. Every op is one real local transaction on the service's database: a barrier row {@code
 * (gid, branch, op)} is inserted and, if it was new, one business row is updated; a duplicate op
 * changes nothing (the barrier of the design, without its null-compensation rules, which the happy
 * path never needs).
 *
 * <ul>
 *   <li>{@code POST /op}: any branch op, named by the {@code Pledge-Op} header; branch {@code bK}
 *       is served by service K.
 *   <li>{@code POST /inbox}: the msg subscription; its local transaction inserts the message id as
 *       an inbox row, so a redelivery is dropped.
 *   <li>{@code GET /check?gid=}: the msg producer's check-back, answered from its barrier: a
 *       missing row is inserted as rolled back, which blocks a late local commit.
 * </ul>
 *
 * <p>The load loop waits for a global transaction's last ops through {@link #expect}: the
 * participant completes the future after its local commit of the last expected op, which is when
 * the coordinator can at the earliest record the transaction final.
 */
final class Participants implements AutoCloseable {
  static final int ACCOUNTS = 1000;
  static final String PRODUCER_BRANCH = "producer";

  private final List<LocalDb> services;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();
  final LongAdder ops = new LongAdder();
  final LongAdder failedOps = new LongAdder();

  /** The longest a held op waits for {@link #release()} before it is answered 503 anyway. */
  static final long MAX_HOLD_SECONDS = 300;

  private volatile String holdPrefix;
  private volatile CountDownLatch released = new CountDownLatch(0);
  private final Set<String> heldGids = ConcurrentHashMap.newKeySet();

  /** Ops still to come for one global transaction. */
  private static final class Waiter {
    final String op;
    final AtomicInteger remaining;
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Waiter(String op, int count) {
      this.op = op;
      this.remaining = new AtomicInteger(count);
    }
  }

  /**
   * @param services the databases of services 1..n (n at least 2); entries may repeat when the
   *     services share one database server
   */
  Participants(List<LocalDb> services) throws IOException {
    if (services.size() < 2) {
      throw new IllegalArgumentException("at least 2 services needed, got " + services.size());
    }
    this.services = List.copyOf(services);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    server.setExecutor(executor);
    server.createContext("/op", this::op);
    server.createContext("/inbox", this::inbox);
    server.createContext("/check", this::check);
    server.start();
  }

  String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Creates the tables if missing and empties them. */
  static void prepare(LocalDb db) {
    db.execute(
        "CREATE TABLE IF NOT EXISTS bench_barrier (gid VARCHAR(128) NOT NULL,"
            + " branch_id VARCHAR(128) NOT NULL, op VARCHAR(16) NOT NULL,"
            + " reason VARCHAR(16) NOT NULL, PRIMARY KEY (gid, branch_id, op))",
        "CREATE TABLE IF NOT EXISTS bench_account (id INTEGER PRIMARY KEY,"
            + " balance BIGINT NOT NULL, version BIGINT NOT NULL)",
        "DELETE FROM bench_barrier",
        "DELETE FROM bench_account");
    db.execute(
        "INSERT INTO bench_account (id, balance, version) SELECT n, 0, 0 FROM ("
            + series(db)
            + ") s");
  }

  private static String series(LocalDb db) {
    return switch (db.kind) {
      case POSTGRES -> "SELECT generate_series(0, " + (ACCOUNTS - 1) + ") AS n";
      case SQLITE ->
          "WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < "
              + (ACCOUNTS - 1)
              + ") SELECT n FROM c";
    };
  }

  /** Registers interest in {@code count} first-time {@code op} calls for {@code gid}. */
  CompletableFuture<Void> expect(String gid, String op, int count) {
    Waiter waiter = new Waiter(op, count);
    if (waiters.putIfAbsent(gid, waiter) != null) {
      throw new IllegalStateException("already waiting for " + gid);
    }
    return waiter.done;
  }

  /**
   * From now on, ops of global transactions whose gid starts with {@code gidPrefix} are held: the
   * participant keeps the request open without answering until {@link #release()} (at most {@link
   * #MAX_HOLD_SECONDS}), then answers 503 without doing the work. So those transactions stay in
   * flight in the coordinator, with a call outstanding, as long as the hold lasts.
   */
  void hold(String gidPrefix) {
    heldGids.clear();
    released = new CountDownLatch(1);
    holdPrefix = gidPrefix;
  }

  /** How many distinct global transactions have had an op held since {@link #hold}. */
  int heldTransactions() {
    return heldGids.size();
  }

  /** Ends the hold: held requests are answered 503, and new ones are served as usual. */
  void release() {
    holdPrefix = null;
    released.countDown();
  }

  void forget(String gid) {
    waiters.remove(gid);
  }

  LocalDb service(String branchId) {
    if (branchId.length() >= 2 && branchId.charAt(0) == 'b') {
      int index = Integer.parseInt(branchId.substring(1));
      return services.get((index - 1) % services.size());
    }
    return services.get(0);
  }

  LocalDb inboxService() {
    return services.get(1);
  }

  /**
   * One op's local transaction: the barrier row, then the business update if the row was new.
   *
   * @return whether this was the op's first execution
   */
  static boolean localWork(LocalDb db, String gid, String branchId, String op, String reason)
      throws SQLException {
    return db.transaction(c -> {
      int inserted;
      try (PreparedStatement barrier =
          c.prepareStatement(
              "INSERT INTO bench_barrier (gid, branch_id, op, reason) VALUES (?, ?, ?, ?)"
                  + " ON CONFLICT DO NOTHING")) {
        barrier.setString(1, gid);
        barrier.setString(2, branchId);
        barrier.setString(3, op);
        barrier.setString(4, reason);
        inserted = barrier.executeUpdate();
      }
      if (inserted == 0) {
        return false;
      }
      try (PreparedStatement update =
          c.prepareStatement(
              "UPDATE bench_account SET balance = balance + 1, version = version + 1 WHERE id = ?")) {
        update.setInt(1, Math.floorMod((gid + branchId).hashCode(), ACCOUNTS));
        update.executeUpdate();
      }
      return true;
    });
  }

  /**
   * The msg producer's local transaction: the barrier row says "committed" unless a check-back got
   * there first and said "rolled back".
   *
   * @return false if a check-back had already rolled the transaction back
   */
  boolean producerLocalCommit(String gid) throws SQLException {
    return localWork(service(PRODUCER_BRANCH), gid, PRODUCER_BRANCH, "msg", "committed");
  }

  private void op(HttpExchange exchange) throws IOException {
    try (exchange) {
      drain(exchange);
      String gid = exchange.getRequestHeaders().getFirst("Pledge-Gid");
      String branch = exchange.getRequestHeaders().getFirst("Pledge-Branch");
      String op = exchange.getRequestHeaders().getFirst("Pledge-Op");
      if (gid == null || branch == null || op == null) {
        answer(exchange, 400, "{\"error\":\"Pledge-Gid, Pledge-Branch and Pledge-Op required\"}");
        return;
      }
      String prefix = holdPrefix;
      if (prefix != null && gid.startsWith(prefix)) {
        heldGids.add(gid);
        try {
          released.await(MAX_HOLD_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        answer(exchange, 503, "{\"error\":\"held\"}");
        return;
      }
      boolean first;
      try {
        first = localWork(service(branch), gid, branch, op, "done");
      } catch (SQLException | RuntimeException e) {
        failedOps.increment();
        answer(exchange, 503, "{\"error\":\"local transaction failed\"}");
        return;
      }
      ops.increment();
      if (first) {
        arrived(gid, op);
      }
      answer(exchange, 200, "{}");
    }
  }

  private void inbox(HttpExchange exchange) throws IOException {
    try (exchange) {
      drain(exchange);
      String gid = exchange.getRequestHeaders().getFirst("Pledge-Gid");
      String messageId = exchange.getRequestHeaders().getFirst("Pledge-Message-Id");
      if (gid == null || messageId == null) {
        answer(exchange, 400, "{\"error\":\"Pledge-Gid and Pledge-Message-Id required\"}");
        return;
      }
      boolean first;
      try {
        first = localWork(inboxService(), gid, messageId, "inbox", "done");
      } catch (SQLException | RuntimeException e) {
        failedOps.increment();
        answer(exchange, 503, "{\"error\":\"local transaction failed\"}");
        return;
      }
      ops.increment();
      if (first) {
        arrived(gid, "inbox");
      }
      answer(exchange, 200, "");
    }
  }

  private void check(HttpExchange exchange) throws IOException {
    try (exchange) {
      drain(exchange);
      String query = exchange.getRequestURI().getRawQuery();
      String gid = null;
      if (query != null) {
        for (String pair : query.split("&", 16)) {
          if (pair.startsWith("gid=")) {
            gid = URLDecoder.decode(pair.substring(4), StandardCharsets.UTF_8);
          }
        }
      }
      if (gid == null) {
        answer(exchange, 400, "{\"error\":\"gid required\"}");
        return;
      }
      String asked = gid;
      String reason;
      try {
        reason =
            service(PRODUCER_BRANCH)
                .transaction(c -> {
                  try (PreparedStatement insert =
                      c.prepareStatement(
                          "INSERT INTO bench_barrier (gid, branch_id, op, reason)"
                              + " VALUES (?, ?, 'msg', 'rolled_back') ON CONFLICT DO NOTHING")) {
                    insert.setString(1, asked);
                    insert.setString(2, PRODUCER_BRANCH);
                    insert.executeUpdate();
                  }
                  try (PreparedStatement select =
                      c.prepareStatement(
                          "SELECT reason FROM bench_barrier WHERE gid = ? AND branch_id = ?"
                              + " AND op = 'msg'")) {
                    select.setString(1, asked);
                    select.setString(2, PRODUCER_BRANCH);
                    try (ResultSet rows = select.executeQuery()) {
                      return rows.next() ? rows.getString(1) : "rolled_back";
                    }
                  }
                });
      } catch (SQLException | RuntimeException e) {
        answer(exchange, 503, "{\"error\":\"local transaction failed\"}");
        return;
      }
      answer(exchange, 200, "{\"status\":\"" + reason + "\"}");
    }
  }

  private void arrived(String gid, String op) {
    Waiter waiter = waiters.get(gid);
    if (waiter != null && waiter.op.equals(op) && waiter.remaining.decrementAndGet() == 0) {
      waiters.remove(gid, waiter);
      waiter.done.complete(null);
    }
  }

  private static void drain(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.readNBytes(1 << 20);
    }
  }

  private static void answer(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
