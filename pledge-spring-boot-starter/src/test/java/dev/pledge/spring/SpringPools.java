package dev.pledge.spring;

import com.zaxxer.hikari.HikariDataSource;
import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.springframework.jdbc.support.JdbcTransactionManager;

/** Pools and transaction managers as Spring Boot makes them, for the contract tests. */
final class SpringPools {
  private static final List<HikariDataSource> OPEN = new CopyOnWriteArrayList<>();

  private SpringPools() {}

  /** A small HikariCP pool over the test database (the previous test's pools closed). */
  static DataSource pool(TestDatabase db) {
    OPEN.forEach(HikariDataSource::close);
    OPEN.clear();
    HikariDataSource pool = new HikariDataSource();
    pool.setDataSource(db.dataSource());
    pool.setMaximumPoolSize(4);
    OPEN.add(pool);
    return pool;
  }

  /** The starter's implementation on Boot's transaction manager for {@code dataSource}. */
  static LocalTransactions transactions(DataSource dataSource) {
    return new SpringLocalTransactions(dataSource, new JdbcTransactionManager(dataSource));
  }
}
