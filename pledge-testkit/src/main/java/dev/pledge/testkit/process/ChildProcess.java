package dev.pledge.testkit.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A child process of a test (a JVM, {@code node}, a server), the one place fault tests start, watch
 * and {@code kill -9} processes from. Its standard output is read line by line into {@link
 * #lines()} and, with its standard error, appended to a log file that survives the test for
 * diagnosis. {@link #close()} kills it (with {@code SIGKILL}) if it still runs, so a failing test
 * leaves nothing behind. It also makes the throw-away PostgreSQL databases such processes run on
 * ({@link #createPostgresDatabase}, {@link #dropPostgresDatabase}).
 */
public final class ChildProcess implements AutoCloseable {
  /**
   * The PostgreSQL server fault tests make their databases on, without a database name: {@code
   * PLEDGE_TEST_POSTGRES_SERVER} when set, else the local one. The JDBC driver must be on the
   * caller's class path.
   */
  public static final String POSTGRES =
      System.getenv()
          .getOrDefault("PLEDGE_TEST_POSTGRES_SERVER", "jdbc:postgresql://127.0.0.1:5432/");

  private final String name;
  private final Process process;
  private final Path log;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  private ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.reader = Thread.ofPlatform().daemon().name("child-" + name).start(this::readOutput);
  }

  /**
   * Starts {@code command} in {@code directory} (the current one when null) with {@code extraEnv}
   * added to this process's environment. Standard error goes to {@code log}, as does each line of
   * standard output.
   */
  public static ChildProcess start(
      String name, List<String> command, Path directory, Map<String, String> extraEnv, Path log) {
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      Files.writeString(
          log,
          "--- " + name + ": " + String.join(" ", command) + System.lineSeparator(),
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      if (directory != null) {
        builder.directory(directory.toFile());
      }
      builder.environment().putAll(extraEnv);
      return new ChildProcess(name, builder.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command, e);
    }
  }

  /**
   * Starts {@code mainClass} in a new JVM of the same Java as this one, on {@code classpath}
   * (usually {@link #testClasspath()}), with {@code jvmOptions} before the class and {@code args}
   * after it.
   */
  public static ChildProcess startJava(
      String name,
      String classpath,
      List<String> jvmOptions,
      String mainClass,
      List<String> args,
      Path log) {
    List<String> command = new ArrayList<>();
    command.add(javaCommand());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classpath);
    command.add(mainClass);
    command.addAll(args);
    return start(name, command, null, Map.of(), log);
  }

  /**
   * Starts {@code mainClass} with {@code args} in a new JVM on this JVM's class path ({@link
   * #testClasspath()}), with no extra JVM options.
   */
  public static ChildProcess startJava(String name, String mainClass, List<String> args, Path log) {
    return startJava(name, testClasspath(), List.of(), mainClass, args, log);
  }

  /** The {@code java} launcher of the running JVM. */
  public static String javaCommand() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** The classpath of the running JVM: under Maven, the module's test classpath. */
  public static String testClasspath() {
    return System.getProperty("java.class.path");
  }

  /** A port that was free a moment ago on the loopback interface. */
  public static int freePort() {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }

  /**
   * A fresh database on {@link #POSTGRES} named {@code prefix} and a random suffix; answers its
   * name.
   */
  public static String createPostgresDatabase(String prefix) throws SQLException {
    String database = prefix + "_" + Long.toString(System.nanoTime() & 0xffffffffL, 36);
    try (var connection = DriverManager.getConnection(POSTGRES + "postgres", "postgres", "");
        var statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
    }
    return database;
  }

  /** Drops a database made by {@link #createPostgresDatabase}, closing its connections. */
  public static void dropPostgresDatabase(String database) throws SQLException {
    try (var connection = DriverManager.getConnection(POSTGRES + "postgres", "postgres", "");
        var statement = connection.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  private void readOutput() {
    try (BufferedReader out =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer file =
            Files.newBufferedWriter(
                log,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
      String line;
      while ((line = out.readLine()) != null) {
        lines.add(line);
        file.write(line);
        file.write(System.lineSeparator());
        file.flush();
      }
    } catch (IOException e) {
      // The process died; what it printed so far is kept.
    }
  }

  /**
   * Waits until a line of standard output matches, and returns the first that does.
   *
   * @throws IllegalStateException when the process exits first or {@code timeout} passes, with the
   *     tail of its log
   */
  public String awaitLine(Predicate<String> matching, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (String line : lines) {
        if (matching.test(line)) {
          return line;
        }
      }
      if (!process.isAlive()) {
        // Let the reader take in what the process printed last.
        joinReader();
        for (String line : lines) {
          if (matching.test(line)) {
            return line;
          }
        }
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + " before the line came\n" + logTail());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name + " printed no such line within " + timeout + "\n" + logTail());
      }
      sleepBriefly();
    }
  }

  /** Waits until a line starting with {@code prefix} appears, and returns it. */
  public String awaitLineStartingWith(String prefix, Duration timeout) {
    return awaitLine(line -> line.startsWith(prefix), timeout);
  }

  /** The lines of standard output so far. */
  public List<String> lines() {
    return List.copyOf(lines);
  }

  /**
   * Waits until a line containing {@code text} appears, and returns it.
   *
   * @throws IllegalStateException when the process exits first or {@code timeout} passes
   */
  public String awaitLineContaining(String text, Duration timeout) {
    return awaitLine(line -> line.contains(text), timeout);
  }

  /**
   * Waits, after {@code after} lines were read, for the next line of standard output, and returns
   * it; for children that answer a command with a line.
   *
   * @throws IllegalStateException when the process exits first or {@code timeout} passes
   */
  public String awaitLineAfter(int after, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (lines.size() <= after) {
      if (!process.isAlive()) {
        joinReader();
        if (lines.size() > after) {
          break;
        }
        throw new IllegalStateException(
            name
                + " exited with "
                + process.exitValue()
                + " before line "
                + after
                + "\n"
                + logTail());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name + " printed no line " + after + " within " + timeout + "\n" + logTail());
      }
      sleepBriefly();
    }
    return lines.get(after);
  }

  /** Standard input of the process, for children that take commands. */
  public OutputStream stdin() {
    return process.getOutputStream();
  }

  /** The exit code of a process that has exited. */
  public int exitValue() {
    return process.exitValue();
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * {@code kill -9}: the process gets no chance to clean up. Returns once it is gone.
   *
   * @throws IllegalStateException when it is still alive after 30 seconds
   */
  public void kill9() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " (pid " + pid() + ") survived SIGKILL for 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing " + name, e);
    }
    joinReader();
  }

  /**
   * Waits for the process to exit by itself, and returns its exit code.
   *
   * @throws IllegalStateException when it still runs after {@code timeout} (it is then killed)
   */
  public int waitFor(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill9();
        throw new IllegalStateException(
            name + " did not exit within " + timeout + " and was killed\n" + logTail());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    }
    joinReader();
    return process.exitValue();
  }

  /** The log file: standard error, and standard output line by line. */
  public Path log() {
    return log;
  }

  /** The last 40 lines of the log, for failure messages. */
  public String logTail() {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(log " + log + " unreadable: " + e.getMessage() + ")";
    }
  }

  private void joinReader() {
    try {
      reader.join(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a child's output", e);
    }
  }

  /** Kills the process if it still runs. */
  @Override
  public void close() {
    if (process.isAlive()) {
      kill9();
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ")";
  }
}
