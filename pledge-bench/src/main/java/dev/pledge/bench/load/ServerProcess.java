package dev.pledge.bench.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The coordinator under test, as a process of its own: {@code java -cp <classpath>
 * dev.pledge.server.Main server --port P --data-dir D [--db URL --db-user U]}. It is ready when it
 * prints {@code pledge server listening on http://127.0.0.1:<port>}; its stderr (the server's log)
 * goes to a file beside the report. Its CPU time is read from {@code /proc}, its log counters from
 * {@code GET /metrics}, its live heap from {@code jcmd GC.class_histogram}.
 */
public final class ServerProcess implements AutoCloseable {
  private static final Pattern READY =
      Pattern.compile("pledge server listening on (http://127\\.0\\.0\\.1:\\d+)");
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

  /** How to start a server. */
  /** How to start a coordinator process. */
  public record Launch(
      String javaBin,
      String classpath,
      String mainClass,
      List<String> jvmOptions,
      Path dataDir,
      String jdbcUrl,
      String dbUser,
      String dbPassword,
      Path logFile) {}

  private final Process process;
  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private ServerProcess(Process process, String base) {
    this.process = process;
    this.base = base;
  }

  /** Starts a coordinator on a free port and waits until it listens. */
  public static ServerProcess start(Launch launch) {
    return start(launch, freePort(), READY_TIMEOUT);
  }

  /**
   * Starts a server on {@code port} (a restart keeps the address its clients know), waiting at most
   * {@code readyTimeout} for it to listen (a restart recovers the log first).
   */
  static ServerProcess start(Launch launch, int port, Duration readyTimeout) {
    List<String> command = new ArrayList<>();
    command.add(launch.javaBin());
    command.addAll(launch.jvmOptions());
    command.add("-cp");
    command.add(launch.classpath());
    command.add(launch.mainClass());
    command.add("server");
    command.add("--port");
    command.add(Integer.toString(port));
    command.add("--data-dir");
    command.add(launch.dataDir().toString());
    if (launch.jdbcUrl() != null) {
      command.add("--db");
      command.add(launch.jdbcUrl());
      if (launch.dbUser() != null) {
        command.add("--db-user");
        command.add(launch.dbUser());
      }
    }
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.redirectError(ProcessBuilder.Redirect.appendTo(launch.logFile().toFile()));
    if (launch.dbPassword() != null) {
      builder.environment().put("PLEDGE_DB_PASSWORD", launch.dbPassword());
    }
    Process process;
    try {
      Files.createDirectories(launch.dataDir());
      Files.writeString(
          launch.logFile(),
          "# " + String.join(" ", command) + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      process = builder.start();
    } catch (IOException e) {
      throw new BenchException("cannot start the server: " + e.getMessage(), e);
    }
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread.ofPlatform()
        .daemon()
        .name("server-stdout")
        .start(() -> {
          try (BufferedReader out =
              new BufferedReader(
                  new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
              Matcher m = READY.matcher(line);
              if (m.find()) {
                ready.complete(m.group(1));
              }
            }
          } catch (IOException e) {
            // the process ended
          }
          ready.completeExceptionally(new BenchException("the server's stdout closed"));
        });
    try {
      String base = ready.get(readyTimeout.toSeconds(), TimeUnit.SECONDS);
      return new ServerProcess(process, base);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new BenchException(
          "the server did not print its listening line within "
              + readyTimeout.toSeconds()
              + " s; see "
              + launch.logFile(),
          e);
    }
  }

  /** The coordinator's base URL. */
  public String base() {
    return base;
  }

  long pid() {
    return process.pid();
  }

  int port() {
    return Integer.parseInt(base.substring(base.lastIndexOf(':') + 1));
  }

  /** Kills the process with SIGKILL ({@code kill -9}) and waits until it is gone. */
  void kill9() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new BenchException("the server survived SIGKILL for 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long cpuNanos() {
    return ProcCpu.processNanos(process.pid());
  }

  /** The sum of a Prometheus counter over all its label sets, or -1 if the server has none. */
  double counter(String name) {
    String text = get("/metrics");
    double sum = 0;
    boolean found = false;
    for (String line : text.split("\n")) {
      if (line.startsWith(name) && (line.length() > name.length())) {
        char next = line.charAt(name.length());
        if (next == ' ' || next == '{') {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          found = true;
        }
      }
    }
    return found ? sum : -1;
  }

  String get(String path) {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create(base + path))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new BenchException("GET " + path + " answered " + response.statusCode());
      }
      return response.body();
    } catch (IOException e) {
      throw new BenchException("GET " + path + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }

  /**
   * Live heap bytes: {@code jcmd GC.class_histogram} runs a full collection first, then counts
   * every reachable object.
   */
  long liveHeapBytes(String jcmd) {
    try {
      Process p =
          new ProcessBuilder(jcmd, Long.toString(process.pid()), "GC.class_histogram")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new BenchException("jcmd GC.class_histogram failed: " + out);
      }
      for (String line : out.split("\n")) {
        String t = line.strip();
        if (t.startsWith("Total")) {
          String[] parts = t.split("\\s+");
          return Long.parseLong(parts[2]);
        }
      }
      throw new BenchException("jcmd printed no Total line: " + out);
    } catch (IOException e) {
      throw new BenchException("cannot run " + jcmd + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted", e);
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new BenchException("no free port: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
