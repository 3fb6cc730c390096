package dev.pledge.bench.load;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code pledge bench lra}: the same LRA work through Pledge's {@code /lra-coordinator} and through
 * Narayana's LRA coordinator (a Quarkus application around {@code lra-coordinator-jar}, in {@code
 * pledge-bench/narayana-lra}, built by this command when its jar is missing), one after the other
 * in the same run, with the same participants and the same closed-loop clients. One unit: start an
 * LRA, join two participants (complete, compensate and status URLs), close it, and wait until both
 * participants have received their complete callback. Pledge runs on its SQLite log, Narayana on
 * its file object store: both on the local disk. Writes {@code lra.md} to the output folder.
 */
@Command(
    name = "lra",
    mixinStandardHelpOptions = true,
    description =
        "LRAs of two participants (start, two joins, close, both complete callbacks) through"
            + " Pledge and through Narayana's LRA coordinator, in the same run.")
public final class LraBench implements Callable<Integer> {
  @ParentCommand BenchCommand parent;

  @Option(names = "--seconds", defaultValue = "15", description = "Measured seconds per system.")
  int seconds;

  @Option(names = "--warmup-seconds", defaultValue = "5", description = "Warm-up per system.")
  int warmupSeconds;

  @Option(names = "--concurrency", defaultValue = "16", description = "Closed-loop clients.")
  int concurrency;

  @Option(
      names = "--systems",
      split = ",",
      defaultValue = "pledge,narayana",
      description = "Which to run, in order (default: ${DEFAULT-VALUE}).")
  List<String> systems;

  @Option(
      names = "--narayana-app",
      defaultValue = "${env:PLEDGE_ROOT:-.}/pledge-bench/narayana-lra",
      description =
          "The Quarkus project of Narayana's coordinator; built with mvn package when"
              + " target/quarkus-app/quarkus-run.jar is missing (default: ${DEFAULT-VALUE}).")
  Path narayanaApp;

  @Option(names = "--out", description = "Output folder (default: bench-results/lra-<UTC time>).")
  Path out;

  private static final Duration CALLBACK_WAIT = Duration.ofSeconds(30);

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .executor(Executors.newVirtualThreadPerTaskExecutor())
          .build();

  /** Complete callbacks awaited, by LRA id and participant. */
  private final Map<String, CompletableFuture<Void>> awaited = new ConcurrentHashMap<>();

  private String participantBase;

  @Override
  public Integer call() throws Exception {
    if (System.getProperty(BenchCommand.NODELAY) == null) {
      System.setProperty(BenchCommand.NODELAY, "true");
    }
    Instant started = Instant.now();
    Path folder = BenchCommand.resultsFolder(out, "lra", started);
    Files.createDirectories(folder);
    HttpServer participants =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    participants.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    participants.createContext("/p", this::participant);
    participants.start();
    participantBase = "http://127.0.0.1:" + participants.getAddress().getPort() + "/p";
    Map<String, LoadLoop.Result> results = new LinkedHashMap<>();
    Map<String, String> notes = new LinkedHashMap<>();
    Map<String, String> loads = new LinkedHashMap<>();
    try {
      for (String system : systems) {
        System.err.printf("lra bench: %s, %d clients%n", system, concurrency);
        String before = BenchCommand.loadAverage();
        try (Coordinator coordinator = open(system, folder)) {
          results.put(system, measure(system, coordinator.url()));
        } catch (Exception e) {
          notes.put(system, "could not run: " + e);
          System.err.printf("lra bench: %s could not run: %s%n", system, e);
        }
        loads.put(system, before + " before, " + BenchCommand.loadAverage() + " after");
        LoadLoop.Result r = results.get(system);
        System.err.printf(
            "lra bench: %s -> %s LRAs/s%n",
            system, r == null ? "-" : String.format(Locale.ROOT, "%.1f", r.perSecond()));
      }
    } finally {
      participants.stop(0);
    }
    String report = report(started, results, notes, loads);
    Files.writeString(folder.resolve("lra.md"), report);
    System.out.print(report);
    System.out.println(folder.resolve("lra.md"));
    return 0;
  }

  /** A participant: answers every callback at once; a complete ends the wait for it. */
  private void participant(HttpExchange exchange) throws IOException {
    try (exchange) {
      exchange.getRequestBody().readAllBytes();
      String[] parts = exchange.getRequestURI().getPath().split("/"); // /p/<name>/<op>
      String op = parts.length > 3 ? parts[3] : "";
      String lra = exchange.getRequestHeaders().getFirst("Long-Running-Action");
      String answer =
          switch (op) {
            case "complete" -> "Completed";
            case "compensate" -> "Compensated";
            case "status" -> "Completed";
            default -> "";
          };
      if (op.equals("complete") && lra != null) {
        awaited
            .computeIfAbsent(lra + " " + parts[2], k -> new CompletableFuture<>())
            .complete(null);
      }
      byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        exchange.getResponseBody().write(bytes);
      }
    }
  }

  private LoadLoop.Result measure(String system, String coordinator) {
    return LoadLoop.run(
        "lra-" + system,
        concurrency,
        Duration.ofSeconds(warmupSeconds),
        Duration.ofSeconds(seconds),
        id -> {
          try {
            return oneLra(coordinator);
          } catch (IOException e) {
            return false;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        },
        LoadLoop.NO_PROBE);
  }

  /** Start, two joins, close, both complete callbacks received. */
  private boolean oneLra(String coordinator) throws IOException, InterruptedException {
    HttpResponse<String> started = send("POST", coordinator + "/start?ClientID=bench", null);
    if (started.statusCode() != 201) {
      return false;
    }
    String id = started.body().strip();
    String path = URI.create(id).getPath();
    String uid = path.substring(path.lastIndexOf('/') + 1);
    List<CompletableFuture<Void>> completions = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      completions.add(awaited.computeIfAbsent(id + " " + name, k -> new CompletableFuture<>()));
      String links = links(name);
      if (send("PUT", coordinator + "/" + uid, links).statusCode() != 200) {
        return false;
      }
    }
    if (send("PUT", coordinator + "/" + uid + "/close", null).statusCode() != 200) {
      return false;
    }
    try {
      CompletableFuture.allOf(completions.toArray(CompletableFuture[]::new))
          .get(CALLBACK_WAIT.toSeconds(), TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      return false;
    } finally {
      awaited.remove(id + " a");
      awaited.remove(id + " b");
    }
  }

  private String links(String name) {
    List<String> links = new ArrayList<>();
    for (String op : List.of("complete", "compensate", "status")) {
      links.add("<" + participantBase + "/" + name + "/" + op + ">; rel=\"" + op + "\"");
    }
    return String.join(",", links);
  }

  private HttpResponse<String> send(String method, String url, String links)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(30))
            .header("Narayana-LRA-API-version", "1.2");
    if (links != null) {
      request.header("Link", links);
    }
    request.method(
        method,
        links == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(links));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  // --- the coordinators -------------------------------------------------------------------------

  /** A coordinator under test: its {@code /lra-coordinator} URL; closing stops it. */
  private interface Coordinator extends AutoCloseable {
    String url();

    @Override
    void close();
  }

  private Coordinator open(String system, Path folder) throws IOException, InterruptedException {
    return switch (system) {
      case "pledge" -> {
        ServerProcess server =
            ServerProcess.start(
                new ServerProcess.Launch(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    parent.serverClasspath != null
                        ? parent.serverClasspath
                        : System.getProperty("java.class.path"),
                    parent.serverMain,
                    parent.serverJvmOptionList(),
                    folder.resolve("pledge"),
                    null,
                    null,
                    null,
                    folder.resolve("pledge.log")));
        yield new Coordinator() {
          @Override
          public String url() {
            return server.base() + "/lra-coordinator";
          }

          @Override
          public void close() {
            server.close();
          }
        };
      }
      case "narayana" -> NarayanaLra.start(narayanaApp, folder.resolve("narayana"), http);
      default -> throw new IllegalArgumentException("unknown system " + system);
    };
  }

  /** Narayana's coordinator as a process: built when needed, its object store in {@code dir}. */
  private static final class NarayanaLra implements Coordinator {
    private final Process process;
    private final String url;

    private NarayanaLra(Process process, String url) {
      this.process = process;
      this.url = url;
    }

    static NarayanaLra start(Path app, Path dir, HttpClient http)
        throws IOException, InterruptedException {
      Path jar = app.resolve("target/quarkus-app/quarkus-run.jar");
      if (!Files.exists(jar)) {
        System.err.println("lra bench: building " + app + " (mvn package; needs Maven Central)");
        Process build =
            new ProcessBuilder(
                    "mvn", "-B", "-q", "-f", app.resolve("pom.xml").toString(), "package")
                .redirectErrorStream(true)
                .redirectOutput(
                    ProcessBuilder.Redirect.appendTo(
                        dir.resolveSibling("narayana-build.log").toFile()))
                .start();
        if (build.waitFor() != 0 || !Files.exists(jar)) {
          throw new BenchException(
              "building " + app + " failed; see " + dir.resolveSibling("narayana-build.log"));
        }
      }
      Files.createDirectories(dir);
      int port;
      try (var socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = socket.getLocalPort();
      }
      Process process =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx1g",
                  "-Dquarkus.http.port=" + port,
                  "-jar",
                  jar.toAbsolutePath().toString())
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(dir.resolve("narayana.log").toFile()))
              .start();
      String url = "http://127.0.0.1:" + port + "/lra-coordinator";
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < until) {
        if (!process.isAlive()) {
          throw new BenchException(
              "Narayana's coordinator exited; see " + dir.resolve("narayana.log"));
        }
        try {
          HttpResponse<String> list =
              http.send(
                  HttpRequest.newBuilder(URI.create(url))
                      .header("Narayana-LRA-API-version", "1.2")
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (list.statusCode() == 200) {
            return new NarayanaLra(process, url);
          }
        } catch (IOException e) {
          // not listening yet
        }
        Thread.sleep(250);
      }
      process.destroyForcibly();
      throw new BenchException("Narayana's coordinator did not answer within 120 s");
    }

    @Override
    public String url() {
      return url;
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

  // --- the report -------------------------------------------------------------------------------

  private String report(
      Instant started,
      Map<String, LoadLoop.Result> results,
      Map<String, String> notes,
      Map<String, String> loads) {
    StringBuilder md = new StringBuilder();
    md.append("## LRA: Pledge and Narayana's coordinator, ")
        .append(
            DateTimeFormatter.ISO_INSTANT.format(
                started.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)))
        .append("\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "One LRA: start, two joins, close, both complete callbacks received. %d closed-loop"
                    + " clients, %d s warm-up, %d s measured per system, one after the other.%n%n",
                concurrency,
                warmupSeconds,
                seconds))
        .append(
            "| system | LRAs/s | p50 ms | p99 ms | errors | × Narayana | load (1, 5, 15 min) |\n")
        .append("|---|---:|---:|---:|---:|---:|---|\n");
    LoadLoop.Result narayana = results.get("narayana");
    for (String system : systems) {
      LoadLoop.Result r = results.get(system);
      if (r == null) {
        md.append("| ")
            .append(system)
            .append(" | — | — | — | — | — | ")
            .append(notes.get(system))
            .append(" |\n");
        continue;
      }
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.1f | %.1f | %.1f | %d | %s | %s |%n",
              system,
              r.perSecond(),
              r.raw().getValueAtPercentile(50) / 1000.0,
              r.raw().getValueAtPercentile(99) / 1000.0,
              r.errors(),
              narayana == null || narayana.perSecond() == 0
                  ? "—"
                  : String.format(Locale.ROOT, "%.2f", r.perSecond() / narayana.perSecond()),
              loads.get(system)));
    }
    md.append("\n");
    return md.toString();
  }
}
