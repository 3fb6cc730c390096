package dev.pledge.server;

import dev.pledge.testkit.process.ChildProcess;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real {@code pledge server} process for the tests that kill it with {@code -9} and start it
 * again on the same log: a {@link ChildProcess} of {@link Main} on this test's class path, on a
 * port it is given (so ids that name the server stay valid across a restart), on the SQLite log of
 * a data directory or on a PostgreSQL database. It is ready once it prints "listening on".
 */
public final class ServerProcess implements AutoCloseable {
  /** The PostgreSQL server the tests use, without a database name. */
  public static final String POSTGRES = ChildProcess.POSTGRES;

  private final ChildProcess child;
  private final int port;

  private ServerProcess(ChildProcess child, int port) {
    this.child = child;
    this.port = port;
  }

  /** A port that was free a moment ago on the loopback interface. */
  public static int freePort() {
    return ChildProcess.freePort();
  }

  /**
   * Starts a server on {@code port} with its data in {@code dataDir}, on PostgreSQL database {@code
   * database} when it is not null (else SQLite), polling for due work every 100 ms, and waits up to
   * 60 s until it listens. Its output is appended to {@code serverLog}.
   */
  public static ServerProcess start(
      int port, Path dataDir, String database, Path serverLog, String... extraArgs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "server",
                "--port",
                Integer.toString(port),
                "--data-dir",
                dataDir.toString(),
                "--poll-millis",
                "100"));
    if (database != null) {
      args.addAll(List.of("--db", POSTGRES + database, "--db-user", "postgres"));
    }
    args.addAll(List.of(extraArgs));
    ChildProcess child =
        ChildProcess.startJava("server-" + port, Main.class.getName(), args, serverLog);
    try {
      child.awaitLineContaining("listening on", Duration.ofSeconds(60));
    } catch (IllegalStateException e) {
      child.close();
      throw new AssertionError("the server did not start", e);
    }
    return new ServerProcess(child, port);
  }

  public int port() {
    return port;
  }

  /** {@code http://127.0.0.1:port}. */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** The process, for tests that want its output or log. */
  public ChildProcess child() {
    return child;
  }

  /** {@code kill -9}: no shutdown hook runs; waits until the process is gone. */
  public void kill() {
    child.kill9();
  }

  /** Kills the server if it still runs. */
  @Override
  public void close() {
    child.close();
  }

  /** A fresh PostgreSQL database named {@code prefix} and a random suffix; answers its name. */
  public static String createDatabase(String prefix) throws SQLException {
    return ChildProcess.createPostgresDatabase(prefix);
  }

  /** Drops a database made by {@link #createDatabase}, closing its connections. */
  public static void dropDatabase(String name) throws SQLException {
    ChildProcess.dropPostgresDatabase(name);
  }
}
