package dev.pledge.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code pledge server} as a child process: the same java binary and classpath as this JVM, main
 * class {@link Main}, arguments {@code server --port P --data-dir D}. It is ready when it prints
 * {@code pledge server listening on http://127.0.0.1:P}; everything it prints goes to a log file.
 */
final class CoordinatorProcess {
  private static final Pattern LISTENING =
      Pattern.compile("pledge server listening on (http://\\S+)");
  private static final int START_ATTEMPTS = 5;
  private static final Pattern RECOVERED = Pattern.compile("recovered \\d+ unsettled transactions");

  private final int port;
  private final Path dataDir;
  private final Path logFile;
  private final Duration readyTimeout;
  private Process process;
  private String url;

  CoordinatorProcess(int port, Path dataDir, Path logFile, Duration readyTimeout) {
    this.port = port;
    this.dataDir = dataDir;
    this.logFile = logFile;
    this.readyTimeout = readyTimeout;
  }

  /** A TCP port on loopback that was free a moment ago. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /**
   * Starts the server and waits until it prints its listening line (recovery done, port open). A
   * start that fails (the port still held by the killed process, say) is tried again, up to {@value
   * #START_ATTEMPTS} times.
   */
  void start() throws IOException, InterruptedException {
    IOException last = null;
    for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      try {
        startOnce();
        return;
      } catch (IOException e) {
        last = e;
        Thread.sleep(200L * attempt);
      }
    }
    throw last;
  }

  private void startOnce() throws IOException, InterruptedException {
    Files.createDirectories(dataDir);
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-XX:+UseSerialGC");
    // A short-lived server on a small machine: quick C1 code beats waiting for C2.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.add("server");
    command.add("--port");
    command.add(Integer.toString(port));
    command.add("--data-dir");
    command.add(dataDir.toString());
    Process started = new ProcessBuilder(command).redirectErrorStream(true).start();
    started.getOutputStream().close();
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread.ofPlatform()
        .daemon()
        .name("coordinator-output-" + started.pid())
        .start(() -> copyOutput(started, ready));
    try {
      url = ready.get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS);
      process = started;
    } catch (ExecutionException | TimeoutException e) {
      started.destroyForcibly();
      started.waitFor(10, TimeUnit.SECONDS);
      throw new IOException(
          "pledge server (pid "
              + started.pid()
              + ") did not print its listening line within "
              + readyTimeout
              + ": "
              + (e.getCause() == null ? e : e.getCause()).getMessage()
              + "; see "
              + logFile,
          e);
    }
  }

  private void copyOutput(Process child, CompletableFuture<String> ready) {
    try (BufferedReader lines =
            new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        Writer log =
            Files.newBufferedWriter(
                logFile,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
      log.write("---- pid " + child.pid() + " ----\n");
      String line;
      String lastLine = "";
      while ((line = lines.readLine()) != null) {
        log.write(line);
        log.write('\n');
        log.flush();
        lastLine = line;
        Matcher listening = LISTENING.matcher(line);
        if (!ready.isDone() && listening.find()) {
          ready.complete(listening.group(1));
        }
      }
      ready.completeExceptionally(new IOException("it exited; its last line: " + lastLine));
    } catch (IOException e) {
      ready.completeExceptionally(e);
    }
  }

  String url() {
    return url;
  }

  int port() {
    return port;
  }

  /**
   * The server's own account of its last recovery ("recovered N unsettled transactions"), read from
   * its log; null if it did not print one.
   */
  String lastRecovery() {
    try (Stream<String> lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
      return lines
          .map(RECOVERED::matcher)
          .filter(Matcher::find)
          .map(m -> m.group())
          .reduce((first, second) -> second)
          .orElse(null);
    } catch (IOException | UncheckedIOException e) {
      return null;
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** {@code kill -9}: {@link Process#destroyForcibly()} sends SIGKILL on Linux. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("pledge server pid " + process.pid() + " survived SIGKILL");
    }
  }

  /** Stops the server politely (SIGTERM), then forcibly if it lingers. */
  void stop() throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
