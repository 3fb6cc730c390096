package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator follows no redirect: an allowed participant that answers {@code 3xx} towards
 * another URL (allowed or not) gets no second call there, and the answer is unknown, so the op is
 * retried at the same URL and never taken as done.
 */
class HttpEffectsRedirectTest {
  private final List<String> elsewhere = new CopyOnWriteArrayList<>();
  private HttpServer redirecting;
  private HttpServer target;
  private String base;

  @BeforeEach
  void start() throws IOException {
    target = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    target.createContext(
        "/",
        exchange -> {
          try (exchange) {
            elsewhere.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            exchange.sendResponseHeaders(200, -1);
          }
        });
    target.start();
    String to = "http://127.0.0.1:" + target.getAddress().getPort() + "/moved";
    redirecting = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    redirecting.createContext(
        "/",
        exchange -> {
          try (exchange) {
            exchange.getRequestBody().readAllBytes();
            int status =
                switch (exchange.getRequestURI().getPath()) {
                  case "/307" -> 307;
                  case "/308" -> 308;
                  default -> 302;
                };
            exchange.getResponseHeaders().set("Location", to);
            exchange.sendResponseHeaders(status, -1);
          }
        });
    redirecting.start();
    base = "http://127.0.0.1:" + redirecting.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    redirecting.stop(0);
    target.stop(0);
  }

  @Test
  void redirectedCallsCheckBacksAndDeliveries_areUnknown_andNotFollowed() {
    HttpEffects effects = new HttpEffects(Duration.ofSeconds(5), AllowList.loopbackOnly());
    Gid gid = Gid.of("redirected");
    for (String path : List.of("/302", "/307", "/308")) {
      Outcome call =
          effects
              .call(new Effect.CallOp(gid, Mode.SAGA, "1", Op.ACTION, 1, base + path, "{}"))
              .join();
      assertThat(call).as(path).isInstanceOf(Outcome.Unknown.class);
      assertThat(((Outcome.Unknown) call).reason()).isEqualTo("HTTP " + path.substring(1));
    }
    Outcome check = effects.checkBack(new Effect.CheckBack(gid, base + "/302", 1)).join();
    assertThat(check).isInstanceOf(Outcome.Unknown.class);
    Outcome delivery =
        effects
            .deliver(
                new Effect.Deliver(gid, "redirected#1", "s", 1, "t", null, "{}", Map.of()),
                base + "/307")
            .join();
    assertThat(delivery).isInstanceOf(Outcome.Unknown.class);
    assertThat(elsewhere).isEmpty();
  }
}
