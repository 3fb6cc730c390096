package dev.pledge.testkit.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * leaves nothing behind.
 */
public final class ChildProcess implements AutoCloseable {
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

  /** The {@code java} launcher of the running JVM. */
  public static String javaCommand() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** The classpath of the running JVM: under Maven, the module's test classpath. */
  public static String testClasspath() {
    return System.getProperty("java.class.path");
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
