package dev.pledge.bench.eventstore;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.axonframework.common.jdbc.DataSourceConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.eventsourcing.eventstore.jdbc.PostgresEventTableFactory;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.serialization.json.JacksonSerializer;

/**
 * The peer: Axon Framework 4's {@code JdbcEventStorageEngine} on the same PostgreSQL, set up as
 * Axon's reference guide sets it up without Spring: a pooled {@code DataSource} (HikariCP,
 * auto-commit off), {@code UnitOfWorkAwareConnectionProviderWrapper} so that each append runs in
 * one transaction committed with its unit of work, the Jackson serializer, Axon's own PostgreSQL
 * table factory. Each client appends to its own aggregate with increasing sequence numbers (Axon's
 * optimistic check is a unique key on aggregate and sequence number).
 */
final class AxonPeer implements AutoCloseable {
  private final HikariDataSource pool;
  private final JdbcEventStorageEngine engine;
  private final long[] sequences;
  private final String prefix = "axon-" + System.nanoTime() + "-";

  record Reserved(String sku, long units, String order) {}

  AxonPeer(String url, String user, String password, int poolSize) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setAutoCommit(false);
    config.setPoolName("axon");
    this.pool = new HikariDataSource(config);
    JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
    this.engine =
        JdbcEventStorageEngine.builder()
            .connectionProvider(
                new UnitOfWorkAwareConnectionProviderWrapper(
                    new DataSourceConnectionProvider(pool)))
            .transactionManager(NoTransactionManager.INSTANCE)
            .eventSerializer(serializer)
            .snapshotSerializer(serializer)
            .batchSize(5000)
            .build();
    DefaultUnitOfWork<?> uow = DefaultUnitOfWork.startAndGet(null);
    engine.createSchema(PostgresEventTableFactory.INSTANCE);
    uow.commit();
    this.sequences = new long[1024];
  }

  void append(int client, long i, int events) {
    List<DomainEventMessage<?>> messages = new ArrayList<>(events);
    for (int e = 0; e < events; e++) {
      messages.add(
          new GenericDomainEventMessage<>(
              "Stock",
              prefix + client,
              sequences[client]++,
              new Reserved("sku-" + client, e, "o-" + i)));
    }
    DefaultUnitOfWork<?> uow = DefaultUnitOfWork.startAndGet(null);
    try {
      engine.appendEvents(messages);
      uow.commit();
    } catch (RuntimeException ex) {
      uow.rollback(ex);
      throw ex;
    }
  }

  /** Appends until Axon's table holds {@code total} events, 500 per append. */
  void fill(int total) {
    AtomicLong stored = new AtomicLong(count());
    int client = 1000;
    while (stored.get() < total) {
      append(client, 0, 500);
      stored.addAndGet(500);
    }
  }

  private long count() {
    try (var c = pool.getConnection();
        var s = c.createStatement();
        var rows = s.executeQuery("SELECT COUNT(*) FROM domainevententry")) {
      rows.next();
      long n = rows.getLong(1);
      c.commit();
      return n;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads every event from the tail, as a tracking processor catching up would. */
  long readAll() {
    DefaultUnitOfWork<?> uow = DefaultUnitOfWork.startAndGet(null);
    long n = 0;
    try (Stream<? extends TrackedEventMessage<?>> events = engine.readEvents(null, false)) {
      n = events.mapToLong(m -> m.getPayload() == null ? 0 : 1).sum();
    }
    uow.commit();
    return n;
  }

  @Override
  public void close() {
    pool.close();
  }
}
