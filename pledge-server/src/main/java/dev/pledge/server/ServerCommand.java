package dev.pledge.server;

import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.server.api.Api;
import dev.pledge.server.auth.Tokens;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.lra.LraCoordinatorApi;
import dev.pledge.server.lra.LraIds;
import dev.pledge.server.metrics.ServerMetrics;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.BrokerSinks;
import dev.pledge.server.runtime.DeliveryRouter;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.tracing.Tracing;
import dev.pledge.store.jdbc.JdbcLogConfig;
import dev.pledge.store.jdbc.JdbcTransactionLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pledge server}: the coordinator, on the embedded SQLite log in {@code --data-dir} unless
 * {@code --db} names a PostgreSQL or MariaDB database. Prints one line on standard output, {@code
 * pledge server listening on http://HOST:PORT}, as soon as the port is open (the transactions an
 * earlier run left unsettled are recovered in the background meanwhile); scripts and tests wait for
 * it. Stops on SIGTERM or SIGINT; a SIGKILL loses nothing acknowledged.
 */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run the coordinator.")
final class ServerCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ServerCommand.class);

  @Option(names = "--config", description = "A properties file of settings (port=7878, …).")
  Path configFile;

  @Option(names = "--port", description = "HTTP port (default 7878; 0 picks a free one).")
  String port;

  @Option(names = "--bind", description = "Address to listen on (default 127.0.0.1).")
  String bind;

  @Option(names = "--data-dir", description = "Folder of the embedded SQLite log (default data).")
  String dataDir;

  @Option(
      names = "--db",
      description =
          "A JDBC URL (jdbc:postgresql://…, jdbc:mariadb://…) instead of the embedded log.")
  String db;

  @Option(
      names = "--db-user",
      description = "Database user; the password is read from PLEDGE_DB_PASSWORD.")
  String dbUser;

  @Option(
      names = "--allow",
      split = ",",
      description = "A URL prefix, beyond loopback, that participants may live under (repeatable).")
  List<String> allow;

  @Option(names = "--poll-millis", description = "How often to claim due work, in ms (200).")
  String pollMillis;

  @Option(names = "--max-owned", description = "Unsettled transactions held in memory (100000).")
  String maxOwned;

  @Option(
      names = "--max-effects-in-flight",
      description = "Calls awaiting answers past which new transactions are refused (20000).")
  String maxEffectsInFlight;

  @Option(names = "--max-long-polls", description = "Long polls waiting at once (512).")
  String maxLongPolls;

  @Option(names = "--max-requests", description = "HTTP requests handled at once (1024).")
  String maxRequests;

  @Option(
      names = "--tokens-file",
      description =
          "A file of bearer tokens, one 'ROLE TOKEN' per line (roles client and operator); without"
              + " it the coordinator asks for no token and listens on loopback only.")
  Path tokensFile;

  @Override
  public Integer call() throws Exception {
    Map<String, String> flags = new HashMap<>();
    flags.put("port", port);
    flags.put("bind", bind);
    flags.put("data-dir", dataDir);
    flags.put("db", db);
    flags.put("db-user", dbUser);
    flags.put("allow", allow == null ? null : String.join(",", allow));
    flags.put("poll-millis", pollMillis);
    flags.put("max-owned", maxOwned);
    flags.put("max-effects-in-flight", maxEffectsInFlight);
    flags.put("max-long-polls", maxLongPolls);
    flags.put("max-requests", maxRequests);
    ServerConfig settings;
    try {
      settings = ServerConfig.resolve(flags, System.getenv(), configFile);
    } catch (IllegalArgumentException e) {
      System.err.println("pledge server: invalid configuration: " + e.getMessage());
      return 2;
    }
    String url = settings.db();
    if (url == null) {
      Files.createDirectories(settings.dataDir());
      url = "jdbc:sqlite:" + settings.dataDir().resolve("pledge.db").toAbsolutePath();
    }
    JdbcLogConfig config = JdbcLogConfig.forUrl(url);
    if (settings.dbUser() != null) {
      config =
          config.withCredentials(
              settings.dbUser(), System.getenv().getOrDefault("PLEDGE_DB_PASSWORD", ""));
    }
    AllowList allowList =
        settings.allow().isEmpty()
            ? AllowList.loopbackOnly()
            : AllowList.loopbackAnd(settings.allow());
    Tokens tokens = tokensFile == null ? null : Tokens.read(tokensFile);
    if (tokens == null && !InetAddress.getByName(settings.bind()).isLoopbackAddress()) {
      throw new IllegalArgumentException(
          "--bind "
              + settings.bind()
              + " is not a loopback address: without --tokens-file the coordinator asks for no"
              + " token, so it listens on loopback only");
    }
    if (tokens == null) {
      LOG.warn(
          "pledge server: no --tokens-file, so no request is asked for a token: listening on"
              + " loopback only ({}), reachable from this machine alone",
          settings.bind());
    } else {
      LOG.info("pledge server: bearer tokens from {}: {}", tokensFile, tokens);
    }
    RetryPolicy policy = RetryPolicy.DEFAULT;
    Limits limits = Limits.DEFAULT;
    Tracing tracing;
    try {
      tracing = Tracing.fromEnvironment(System.getenv(), settings.maxOwned());
    } catch (IllegalArgumentException e) {
      System.err.println("pledge server: invalid configuration: " + e.getMessage());
      return 2;
    }
    LOG.info("pledge server: {}; log {}; {}; {}; {}", settings, config, limits, policy, tracing);
    SecureRandom random = new SecureRandom();
    // The LRA ids name this server; the base is known once the port is open.
    LraIds lraIds = new LraIds("http://" + settings.bind() + ":" + settings.port());
    ServerMetrics metrics = new ServerMetrics();
    try (tracing;
        JdbcTransactionLog log = JdbcTransactionLog.open(config, metrics.writerListener());
        BrokerSinks brokers = BrokerSinks.discover();
        HttpEffects participants =
            new HttpEffects(policy.callTimeout(), allowList, tracing.outgoingHeaders(), lraIds)) {
      metrics.bindLog(log);
      LOG.info(
          "pledge server: broker targets {}",
          brokers.schemes().isEmpty() ? "none (no provider on the classpath)" : brokers.schemes());
      Subscriptions subscriptions = new Subscriptions(log);
      // Other coordinators on the same log may change the subscriptions: read them again each
      // second (never per delivery), so a change anywhere takes effect here within that bound.
      Subscriptions.Reloading reloading = subscriptions.reloadEvery(Subscriptions.RELOAD_INTERVAL);
      ServerRuntime runtime =
          ServerRuntime.start(
              RuntimeConfig.defaults(policy.callTimeout())
                  .withPollInterval(settings.pollInterval())
                  .withMaxOwned(settings.maxOwned())
                  .withMaxEffectsInFlight(settings.maxEffectsInFlight()),
              new Engine(limits, policy),
              log,
              tracing.transport(new DeliveryRouter(participants, brokers, allowList)),
              subscriptions,
              settings.maxLongPolls(),
              List.of(tracing.listener()),
              metrics);
      Api api =
          new Api(
              runtime,
              log,
              limits,
              subscriptions,
              allowList,
              log,
              () -> {
                byte[] bytes = new byte[12];
                random.nextBytes(bytes);
                return HexFormat.of().formatHex(bytes);
              });
      try (HttpApiServer server =
          HttpApiServer.start(
              new InetSocketAddress(settings.bind(), settings.port()),
              api,
              settings.maxRequests(),
              tokens,
              tracing)) {
        String host = settings.bind().contains(":") ? "[" + settings.bind() + "]" : settings.bind();
        lraIds.setBase("http://" + host + ":" + server.port());
        LraCoordinatorApi lra =
            new LraCoordinatorApi(runtime.coordinator(), log, runtime.longPolls(), lraIds);
        server.mount(LraIds.PATH, lra::handle);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(() -> {
                  reloading.close();
                  runtime.close();
                  tracing.close(); // exports the spans still buffered before the JVM exits
                  stopped.countDown();
                }));
        // The line scripts and tests wait for: the port is open. What an earlier run left unsettled
        // is being recovered in the background meanwhile (pledge_recovering is 1 until it is done).
        System.out.println(
            "pledge server listening on http://" + settings.bind() + ":" + server.port());
        System.out.flush();
        // The JVM's meters are not needed to take the first transaction: bound after the line.
        metrics.bindJvm();
        stopped.await();
      }
    }
    return 0;
  }
}
