package dev.pledge.testkit.contract;

import dev.pledge.core.Gid;
import dev.pledge.core.spi.TransactionLog;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;

/**
 * The contract of {@link TransactionLog}, as its Javadoc states it, checked against any
 * implementation. An implementation's test extends this class and says how to make a fresh, empty
 * log:
 *
 * <pre>{@code
 * class PostgresTransactionLogTest extends TransactionLogContract {
 *   @Override
 *   protected TransactionLog newLog() {
 *     return PostgresTransactionLog.open(freshSchema());
 *   }
 * }
 * }</pre>
 *
 * <p>A durable implementation also overrides {@link #reopen} to close the log and open it again on
 * the same storage, so that the suite checks that what was written is still there.
 *
 * <p>Every transaction here is made by the real engine from a spec and a sequence of events, so the
 * log sees exactly what a coordinator writes: every mode, branches with op progress in every
 * status, messages with deliveries, check-backs, flags, non-ASCII payloads. Gids start with the
 * test's name, as DTM's tests do, so a row left in a shared database says which test wrote it.
 * Instants are whole milliseconds and must come back exactly.
 *
 * <p>The tests are in parts, a file each, that this class implements, so that an implementation's
 * test runs them all as its own: {@link WriteContract create, load and update}, {@link
 * DueWorkContract due work, leases and fencing}, {@link RecoveryContract what a starting
 * coordinator reads}, {@link PageContract pages, queries and counts}, {@link HistoryContract
 * history} and {@link KeyQueueContract key queues}. Each part is an interface whose tests are
 * default methods; it sees the log under test through {@link LogContractPart}. To add a part,
 * extend that interface and add it to the list below.
 *
 * <p>What the suite cannot check: that a write survives a crash of the machine, and that operating
 * failures surface as {@code LogUnavailableException}. Those belong in the implementation's own
 * fault tests.
 */
public abstract class TransactionLogContract
    implements WriteContract,
        DueWorkContract,
        RecoveryContract,
        PageContract,
        HistoryContract,
        KeyQueueContract {
  private TransactionLog log;
  private String testName;

  /**
   * A new, empty log. Called before every test, before the subclass's own {@code @BeforeEach}
   * methods run, so whatever it needs (a database, a schema) must be ready by then: made here, or
   * in a {@code @BeforeAll}.
   */
  protected abstract TransactionLog newLog();

  /**
   * The same storage as {@code log}, closed and opened again. The default returns {@code log}
   * itself, which is right only for a log that lives in memory.
   */
  protected TransactionLog reopen(TransactionLog log) {
    return log;
  }

  /**
   * Another handle on the same storage as {@code log}, opened after it (so with a newer epoch), as
   * a second coordinator sharing the database would open one.
   */
  protected abstract TransactionLog newHandle(TransactionLog log);

  @BeforeEach
  final void freshLog(TestInfo info) {
    log = newLog();
    String method = info.getTestMethod().map(m -> m.getName()).orElse("test");
    testName = method.replaceAll("[^A-Za-z0-9.:-]", ".");
    if (testName.length() > 96) {
      testName = testName.substring(0, 96);
    }
  }

  @Override
  public final TransactionLog log() {
    return log;
  }

  @Override
  public final Gid gid(String suffix) {
    return Gid.of(testName + "-" + suffix);
  }

  @Override
  public final void reopenLog() {
    log = reopen(log);
  }

  @Override
  public final TransactionLog anotherHandle() {
    return newHandle(log);
  }
}
