package dev.pledge.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code pledge server} process for the tests that kill it with {@code -9} and start it
 * again on the same log: started on this test's class path, on a port it is given (so ids that name
 * the server stay valid across a restart), on the SQLite log of a data directory or on a PostgreSQL
 * database. Its standard error goes to a file; it is ready once it prints "listening on".
 */
public final class ServerProcess {
  /** The PostgreSQL server the tests use, without a database name. */
  public static final String POSTGRES = "jdbc:postgresql://127.0.0.1:5432/";

  private final Process process;
  private final int port;

  private ServerProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** A port that was free a moment ago on the loopback interface. */
  public static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    }
  }

  /**
   * Starts a server on {@code port} with its data in {@code dataDir}, on PostgreSQL database {@code
   * database} when it is not null (else SQLite), polling for due work every 100 ms, and waits up to
   * 60 s until it listens. Its standard error is appended to {@code serverLog}.
   */
  public static ServerProcess start(
      int port, Path dataDir, String database, Path serverLog, String... extraArgs)
      throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "dev.pledge.server.Main",
                "server",
                "--port",
                Integer.toString(port),
                "--data-dir",
                dataDir.toString(),
                "--poll-millis",
                "100"));
    if (database != null) {
      command.addAll(List.of("--db", POSTGRES + database, "--db-user", "postgres"));
    }
    command.addAll(List.of(extraArgs));
    Process process =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.appendTo(serverLog.toFile()))
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    Future<String> ready =
        Executors.newVirtualThreadPerTaskExecutor()
            .submit(() -> {
              String line;
              while ((line = out.readLine()) != null) {
                if (line.contains("listening on")) {
                  // Keep reading, so a server that prints much never blocks on a full pipe.
                  Thread.ofVirtual().start(() -> drain(out));
                  return line;
                }
              }
              return null;
            });
    String line;
    try {
      line = ready.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new AssertionError("the server did not start: " + Files.readString(serverLog), e);
    }
    if (line == null) {
      throw new AssertionError("the server did not start: " + Files.readString(serverLog));
    }
    return new ServerProcess(process, port);
  }

  private static void drain(BufferedReader out) {
    try {
      while (out.readLine() != null) {
        // discarded
      }
    } catch (IOException e) {
      // the process is gone
    }
  }

  public int port() {
    return port;
  }

  /** {@code http://127.0.0.1:port}. */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** {@code kill -9}: no shutdown hook runs; waits until the process is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }

  /** A fresh PostgreSQL database named {@code prefix} and a random suffix; answers its name. */
  public static String createDatabase(String prefix) throws SQLException {
    String name = prefix + "_" + Long.toString(System.nanoTime() & 0xffffffffL, 36);
    try (var connection = DriverManager.getConnection(POSTGRES + "postgres", "postgres", "");
        var statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    return name;
  }

  /** Drops a database made by {@link #createDatabase}, closing its connections. */
  public static void dropDatabase(String name) throws SQLException {
    try (var connection = DriverManager.getConnection(POSTGRES + "postgres", "postgres", "");
        var statement = connection.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }
}
