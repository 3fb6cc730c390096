package dev.pledge.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.runtime.TestRuntimes;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The console's static files: what is served, with which headers, and what never is. */
class ConsoleFilesTest {
  private final ConsoleFiles files = new ConsoleFiles();

  @Test
  void root_servesTheIndexAsHtml_withSecurityAndCachingHeaders() {
    ConsoleFiles.Response response = files.serve("GET", "/console/", null);

    assertThat(response.status()).isEqualTo(200);
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains("<title>Pledge console</title>");
    assertThat(response.headers())
        .containsEntry("Content-Type", "text/html; charset=utf-8")
        .containsEntry("Cache-Control", "no-cache")
        .containsEntry("X-Content-Type-Options", "nosniff")
        .containsEntry("Content-Security-Policy", ConsoleFiles.CONTENT_SECURITY_POLICY)
        .containsKey("ETag");
  }

  @Test
  void eachFile_hasTheContentTypeOfItsExtension() {
    assertThat(files.serve("GET", "/console/console.js", null).headers())
        .containsEntry("Content-Type", "text/javascript; charset=utf-8");
    assertThat(files.serve("GET", "/console/console.css", null).headers())
        .containsEntry("Content-Type", "text/css; charset=utf-8");
    assertThat(files.serve("GET", "/console/favicon.svg", null).headers())
        .containsEntry("Content-Type", "image/svg+xml");
  }

  @Test
  void theSameETag_answers304WithoutABody_andAnotherOne200() {
    String etag = files.serve("GET", "/console/console.js", null).headers().get("ETag");

    ConsoleFiles.Response same = files.serve("GET", "/console/console.js", "W/" + etag);
    ConsoleFiles.Response other = files.serve("GET", "/console/console.js", "\"other\"");

    assertThat(same.status()).isEqualTo(304);
    assertThat(same.body()).isEmpty();
    assertThat(other.status()).isEqualTo(200);
    assertThat(other.body()).isNotEmpty();
  }

  @Test
  void head_answersTheHeadersOnly_andOtherMethods405() {
    ConsoleFiles.Response head = files.serve("HEAD", "/console/", null);
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.headers().get("Content-Length")).isNotEqualTo("0");

    for (String method : new String[] {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
      ConsoleFiles.Response refused = files.serve(method, "/console/", null);
      assertThat(refused.status()).as(method).isEqualTo(405);
      assertThat(refused.headers()).containsEntry("Allow", "GET, HEAD");
    }
  }

  @Test
  void console_withoutItsSlash_redirectsToIt() {
    ConsoleFiles.Response response = files.serve("GET", "/console", null);

    assertThat(response.status()).isEqualTo(308);
    assertThat(response.headers()).containsEntry("Location", "/console/");
  }

  /** Decoded paths, as the HTTP server hands them over: none may leave the console's folder. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "/console/../dev/pledge/server/api/Api.class",
        "/console/..",
        "/console/./index.html",
        "/console/.hidden.js",
        "/console//etc/passwd",
        "/console/static/../../console/ConsoleFiles.class",
        "/console/..\\..\\Api.class",
        "/console/ConsoleFiles.class",
        "/console/index.html/",
        "/console/index.html\u0000.js",
        "/console/missing.js",
        "/console/index",
        "/console/META-INF/MANIFEST.MF",
        "/consolex/index.html",
        "/console/a/b/c/d/e/index.html"
      })
  void pathsOutsideTheConsole_orUnknown_answer404(String path) {
    ConsoleFiles.Response response = files.serve("GET", path, null);

    assertThat(response.status()).as(path).isEqualTo(404);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("not found\n");
  }

  @Test
  void overHttp_theConsoleIsServed_andEncodedTraversalIsRefused() throws Exception {
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    ServerRuntime coordinator =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
            log,
            new HttpEffects(Duration.ofSeconds(1), AllowList.loopbackOnly()),
            new Subscriptions(new InMemorySubscriptionStore()),
            Duration.ofMillis(50));
    Api api =
        new Api(
            coordinator,
            log,
            Limits.DEFAULT,
            new Subscriptions(new InMemorySubscriptionStore()),
            AllowList.loopbackOnly(),
            new InMemoryAuditLog(),
            () -> "generated");
    try (HttpApiServer server =
        HttpApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), api)) {
      HttpClient client = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + server.port();
      HttpResponse<String> index = get(client, base + "/console/");
      assertThat(index.statusCode()).isEqualTo(200);
      assertThat(index.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
      assertThat(index.body()).contains("console.js");
      assertThat(get(client, base + "/console/%2e%2e/dev/pledge/server/api/Api.class").statusCode())
          .isEqualTo(404);
      assertThat(get(client, base + "/console/..%2f..%2fpom.xml").statusCode()).isEqualTo(404);
      assertThat(get(client, base + "/console").statusCode()).isEqualTo(308);
      // Beside the console, the API is still the API.
      assertThat(get(client, base + "/api/v1/counts").statusCode()).isEqualTo(200);
    } finally {
      coordinator.close();
    }
  }

  private static HttpResponse<String> get(HttpClient client, String url) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
