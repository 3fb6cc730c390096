package dev.pledge.example.shop;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The two databases of an xa run of the shop, made fresh for it: {@code <name>} on a PostgreSQL
 * server (inventory) and on a MariaDB server (payment), created from the servers' admin URLs and
 * dropped by {@link #close} unless kept. Their data sources open a new connection each time (no
 * pool), as xa on MariaDB needs.
 */
public final class XaDatabases implements AutoCloseable {
  private static final Pattern URL =
      Pattern.compile("(jdbc:(?:postgresql|mariadb)://[^/?]+)(?:/([^?]*))?(\\?.*)?");
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");

  private final String name;
  private final String postgresAdminUrl;
  private final String mariadbAdminUrl;
  private final DataSource postgres;
  private final DataSource mariadb;
  private boolean keep;

  private XaDatabases(String name, String postgresAdminUrl, String mariadbAdminUrl)
      throws SQLException {
    this.name = name;
    this.postgresAdminUrl = postgresAdminUrl;
    this.mariadbAdminUrl = mariadbAdminUrl;
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setUrl(withDatabase(postgresAdminUrl, name));
    this.postgres = pg;
    this.mariadb = new MariaDbDataSource(withDatabase(mariadbAdminUrl, name));
  }

  /**
   * Creates database {@code name} on both servers.
   *
   * @param postgresAdminUrl a JDBC URL of the PostgreSQL server with the right to create databases,
   *     such as {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}
   * @param mariadbAdminUrl the same for MariaDB, such as {@code
   *     jdbc:mariadb://127.0.0.1:3306/?user=root}
   * @throws ShopException when a server cannot be reached or refuses
   */
  public static XaDatabases create(String name, String postgresAdminUrl, String mariadbAdminUrl) {
    Objects.requireNonNull(postgresAdminUrl, "postgresAdminUrl");
    Objects.requireNonNull(mariadbAdminUrl, "mariadbAdminUrl");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("database name must match " + NAME + ", got " + name);
    }
    execute(postgresAdminUrl, "CREATE DATABASE " + name);
    try {
      execute(mariadbAdminUrl, "CREATE DATABASE " + name);
      return new XaDatabases(name, postgresAdminUrl, mariadbAdminUrl);
    } catch (SQLException | RuntimeException e) {
      try {
        execute(postgresAdminUrl, "DROP DATABASE IF EXISTS " + name);
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e instanceof RuntimeException r
          ? r
          : new ShopException("cannot use MariaDB: " + e.getMessage(), e);
    }
  }

  private static String withDatabase(String url, String database) {
    Matcher m = URL.matcher(url);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a jdbc:postgresql:// or jdbc:mariadb:// URL: " + url);
    }
    return m.group(1) + "/" + database + (m.group(3) == null ? "" : m.group(3));
  }

  private static void execute(String url, String sql) {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new ShopException(
          sql + " on " + url.replaceAll("password=[^&]*", "password=…") + ": " + e.getMessage(), e);
    }
  }

  public String name() {
    return name;
  }

  /** Inventory's database, on PostgreSQL. */
  public DataSource postgres() {
    return postgres;
  }

  /** Payment's database, on MariaDB. */
  public DataSource mariadb() {
    return mariadb;
  }

  /** Keeps both databases after {@link #close}. */
  public void keep() {
    keep = true;
  }

  /**
   * Drops both databases unless kept. PostgreSQL refuses to drop a database that still has prepared
   * transactions: then it stays, and the answer says so.
   *
   * @return what could not be dropped, in words (empty when both were)
   */
  public List<String> drop() {
    List<String> left = new ArrayList<>();
    if (keep) {
      return left;
    }
    for (String url : List.of(postgresAdminUrl, mariadbAdminUrl)) {
      try {
        execute(url, "DROP DATABASE IF EXISTS " + name);
      } catch (ShopException e) {
        left.add(e.getMessage());
      }
    }
    return left;
  }

  @Override
  public void close() {
    drop();
  }
}
