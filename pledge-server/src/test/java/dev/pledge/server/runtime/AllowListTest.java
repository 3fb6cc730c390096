package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The participant URL allow-list against its known bypasses: every spelling of a host a parser
 * might read otherwise, user info, dot segments, and DNS names that resolve to this machine. DNS
 * answers come from a table (there is no DNS server to point at here); the addresses are parsed as
 * the JVM parses them.
 */
class AllowListTest {
  private static final Map<String, String> DNS =
      Map.of(
          "orders.internal", "10.1.2.3",
          "rebound.internal", "127.0.0.1",
          "unspecified.internal", "0.0.0.0",
          "metadata.internal", "169.254.169.254",
          "six.internal", "::1");

  private static List<InetAddress> resolve(String host) throws UnknownHostException {
    String address = DNS.get(host);
    if (address == null) {
      throw new UnknownHostException(host);
    }
    return List.of(InetAddress.getByName(address));
  }

  private final AllowList loopback = AllowList.loopbackOnly().withResolver(AllowListTest::resolve);
  private final AllowList orders =
      AllowList.loopbackAnd(
              List.of(
                  "http://orders.internal:8080/",
                  "https://rebound.internal/",
                  "http://unspecified.internal/",
                  "http://metadata.internal/",
                  "http://six.internal/",
                  "http://10.9.8.7/api/",
                  "http://[fd00::1]:9000/"))
          .withResolver(AllowListTest::resolve);

  private record Row(String url, boolean allowed, String why) {}

  private static void check(AllowList list, List<Row> rows) {
    for (Row row : rows) {
      assertThat(list.allows(row.url())).as(row.why() + ": " + row.url()).isEqualTo(row.allowed());
    }
  }

  @Test
  void loopbackByDefault_inEverySpellingOfLoopback_andNothingElse() {
    check(
        loopback,
        List.of(
            new Row("http://localhost:8080/a", true, "the name"),
            new Row("http://LOCALHOST:8080/a", true, "names ignore case"),
            new Row("http://127.0.0.1:8080/a", true, "IPv4 loopback"),
            new Row("http://127.8.9.10/a", true, "all of 127/8"),
            new Row("http://[::1]:8080/a", true, "IPv6 loopback"),
            new Row("http://[0:0:0:0:0:0:0:1]/a", true, "IPv6 loopback, long form"),
            new Row("http://[::ffff:127.0.0.1]/a", true, "IPv4-mapped loopback"),
            new Row("http://0.0.0.0:8080/a", false, "unspecified reaches this machine"),
            new Row("http://[::]:8080/a", false, "unspecified IPv6"),
            new Row("http://2130706433/a", false, "decimal IPv4"),
            new Row("http://0x7f000001/a", false, "hex IPv4"),
            new Row("http://0177.0.0.1/a", false, "octal IPv4"),
            new Row("http://127.1/a", false, "short IPv4"),
            new Row("http://127.000.000.001/a", false, "leading zeros, octal to some parsers"),
            new Row("http://user:pw@localhost/a", false, "user info"),
            new Row("http://localhost@10.1.2.3/a", false, "loopback as user info"),
            new Row("http://10.1.2.3/a", false, "another host"),
            new Row("http://rebound.internal/a", false, "a name is not loopback by its address"),
            new Row("ftp://localhost/a", false, "scheme"),
            new Row("http://[fe80::1%25eth0]/a", false, "zone id"),
            new Row("not a url", false, "garbage")));
  }

  @Test
  void listedPrefixes_matchByParsedParts_notByText() {
    check(
        orders,
        List.of(
            new Row("http://orders.internal:8080/reserve", true, "under the prefix"),
            new Row("HTTP://Orders.Internal:8080/reserve", true, "scheme and host ignore case"),
            new Row("http://orders.internal.:8080/reserve", true, "the root dot"),
            new Row("http://orders.internal:8081/reserve", false, "another port"),
            new Row("http://orders.internal/reserve", false, "default port is 80, not 8080"),
            new Row("https://orders.internal:8080/reserve", false, "another scheme"),
            new Row("http://orders.internal.evil:8080/x", false, "a longer name"),
            new Row("http://orders.internal:8080@evil/x", false, "the prefix as user info"),
            new Row("http://evil@orders.internal:8080/x", false, "user info before the host"),
            new Row("http://10.9.8.7/api/orders", true, "literal host with a path prefix"),
            new Row("http://10.9.8.7/admin", false, "outside the path prefix"),
            new Row("http://10.9.8.7/api/../admin", false, "dot segments are resolved first"),
            new Row("http://10.9.8.7/api/%2e%2e/admin", false, "encoded dot segments"),
            new Row("http://10.9.8.7/api%2f..%2fadmin", false, "encoded slash"),
            new Row("http://168364295/api/x", false, "10.9.8.7 as a decimal number"),
            new Row("http://012.011.010.007/api/x", false, "10.9.8.7 in octal"),
            new Row("http://[::ffff:10.9.8.7]/api/x", true, "IPv4-mapped spelling of 10.9.8.7"),
            new Row("http://[fd00:0:0:0:0:0:0:1]:9000/x", true, "long form of [fd00::1]"),
            new Row("http://[fd00::2]:9000/x", false, "another IPv6 address")));
  }

  @Test
  void aListedName_thatResolvesToThisMachineOrItsLink_isRefused() {
    check(
        orders,
        List.of(
            new Row("http://orders.internal:8080/x", true, "resolves to 10.1.2.3"),
            new Row("https://rebound.internal/x", false, "resolves to 127.0.0.1"),
            new Row("http://unspecified.internal/x", false, "resolves to 0.0.0.0"),
            new Row("http://metadata.internal/x", false, "resolves to the metadata address"),
            new Row("http://six.internal/x", false, "resolves to ::1")));
  }

  @Test
  void aListedName_thatDoesNotResolve_isNotCalled() {
    AllowList list =
        AllowList.loopbackAnd(List.of("http://gone.internal/"))
            .withResolver(AllowListTest::resolve);
    assertThat(list.allows("http://gone.internal/x")).isFalse();
  }

  @Test
  void aRepeatedUrl_isAnsweredTheSame_andItsNameIsResolvedOnEveryCall() {
    // The parse of a URL is cached; the DNS answer is not: a name that starts resolving to this
    // machine (DNS rebinding) is refused from the next call on.
    List<String> answers = new ArrayList<>(List.of("10.1.2.3", "10.1.2.3", "127.0.0.1"));
    List<String> asked = new ArrayList<>();
    AllowList list =
        AllowList.loopbackAnd(List.of("http://orders.internal:8080/"))
            .withResolver(host -> {
              asked.add(host);
              return List.of(InetAddress.getByName(answers.removeFirst()));
            });
    String url = "http://orders.internal:8080/x";
    assertThat(list.allows(url)).isTrue();
    assertThat(list.allows(url)).isTrue();
    assertThat(list.allows(url)).as("resolves to 127.0.0.1 now").isFalse();
    assertThat(asked).containsExactly("orders.internal", "orders.internal", "orders.internal");
    for (int i = 0; i < 3; i++) {
      assertThat(loopback.allows("http://127.0.0.1:9000/x")).isTrue();
      assertThat(loopback.allows("http://0x7f.1/x")).isFalse();
      assertThat(loopback.allows("ftp://127.0.0.1/x")).isFalse();
    }
  }

  @Test
  void prefixes_thatCannotBeCompared_areRefusedNamingThem() {
    for (String prefix :
        List.of(
            "orders.internal/",
            "http://orders.internal",
            "http://u:p@orders.internal/",
            "http://orders.internal/?q=1/",
            "ftp://orders.internal/",
            "http://0.0.0.0/",
            "http://2130706433/")) {
      assertThatThrownBy(() -> AllowList.loopbackAnd(List.of(prefix)))
          .as(prefix)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(prefix);
    }
  }
}
