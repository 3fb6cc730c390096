package dev.pledge.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code pledge demo} end to end, as a user runs it but with fewer orders: the coordinator is a
 * real child process on its SQLite log, killed with -9 mid-run and restarted on the same data; the
 * shop's four services inject their faults; the report must find everything consistent.
 */
class DemoCommandTest {
  @TempDir Path dataDir;

  @Test
  void demoWithAKillMinus9_endsConsistent() {
    StringWriter output = new StringWriter();
    CommandLine command = new CommandLine(new Main());
    command.setOut(new PrintWriter(output, true));
    command.setErr(new PrintWriter(output, true));

    int exit =
        command.execute(
            "demo",
            "--orders",
            "60",
            "--clients",
            "8",
            "--seed",
            "3",
            "--data-dir",
            dataDir.toString());

    String out = output.toString();
    System.out.println(out);
    assertThat(exit).as(out).isZero();
    assertThat(out).contains("CONSISTENT: every order committed or aborted everywhere");
    assertThat(out).containsPattern("console: http://127\\.0\\.0\\.1:\\d+/console/");
    assertThat(out).doesNotContain("[FAIL]").doesNotContain("INCONSISTENT");
    // The kill really happened, and a new process took over on the same data.
    Matcher killed = Pattern.compile("coordinator pid (\\d+) killed with SIGKILL").matcher(out);
    Matcher back = Pattern.compile("coordinator back as pid (\\d+)").matcher(out);
    assertThat(killed.find()).as(out).isTrue();
    assertThat(back.find()).as(out).isTrue();
    assertThat(back.group(1)).isNotEqualTo(killed.group(1));
    assertThat(ProcessHandle.of(Long.parseLong(killed.group(1))).map(ProcessHandle::isAlive))
        .isNotEqualTo(java.util.Optional.of(true));
    // Every order is accounted for, and each check ran and held.
    Matcher total = Pattern.compile("total\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)").matcher(out);
    assertThat(total.find()).as(out).isTrue();
    assertThat(Integer.parseInt(total.group(1))).isEqualTo(60);
    assertThat(Integer.parseInt(total.group(2)) + Integer.parseInt(total.group(3))).isEqualTo(60);
    assertThat(Integer.parseInt(total.group(4))).isZero();
    assertThat(Integer.parseInt(total.group(2))).as("some orders commit").isPositive();
    assertThat(out)
        .contains(
            "[ok]   every order final",
            "[ok]   the coordinator agrees",
            "[ok]   no transaction left non-final",
            "[ok]   stock conserved",
            "[ok]   money conserved",
            "[ok]   one shipment per committed order, none for an aborted one",
            "[ok]   every barrier consistent");
  }

  /**
   * {@code --mode xa}: inventory on PostgreSQL and payment on MariaDB, every order's branches real
   * prepared transactions, the coordinator killed with -9 mid-run; consistent, and nothing left
   * prepared in either database. The servers are {@code PLEDGE_TEST_XA_ADMIN_POSTGRES_URL} and
   * {@code PLEDGE_TEST_XA_ADMIN_MARIADB_URL}, or the local ones; the run makes databases of its
   * own.
   */
  @Test
  void xaDemoWithAKillMinus9_endsConsistentWithNothingPrepared() {
    StringWriter output = new StringWriter();
    CommandLine command = new CommandLine(new Main());
    command.setOut(new PrintWriter(output, true));
    command.setErr(new PrintWriter(output, true));

    int exit =
        command.execute(
            "demo",
            "--mode",
            "xa",
            "--orders",
            "40",
            "--clients",
            "6",
            "--seed",
            "5",
            "--postgres-url",
            env(
                "PLEDGE_TEST_XA_ADMIN_POSTGRES_URL",
                "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres"),
            "--mariadb-url",
            env("PLEDGE_TEST_XA_ADMIN_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/?user=root"),
            "--data-dir",
            dataDir.toString());

    String out = output.toString();
    System.out.println(out);
    assertThat(exit).as(out).isZero();
    assertThat(out).contains("CONSISTENT: every order committed or aborted everywhere");
    assertThat(out).doesNotContain("[FAIL]").doesNotContain("INCONSISTENT");
    assertThat(out).containsPattern("coordinator pid \\d+ killed with SIGKILL");
    assertThat(out).containsPattern("coordinator back as pid \\d+");
    Matcher xa = Pattern.compile("xa\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)").matcher(out);
    assertThat(xa.find()).as(out).isTrue();
    assertThat(Integer.parseInt(xa.group(1))).isEqualTo(40);
    assertThat(Integer.parseInt(xa.group(2))).as("some xa orders commit").isPositive();
    assertThat(Integer.parseInt(xa.group(4))).isZero();
    assertThat(out)
        .contains(
            "[ok]   stock conserved",
            "[ok]   money conserved",
            "[ok]   every barrier consistent",
            "[ok]   no prepared transaction left");
    assertThat(out).doesNotContain("could not drop an xa database");
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
