package dev.pledge.spring;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.outbox.Outbox;
import dev.pledge.client.participant.Participant;
import java.time.Duration;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Pledge in a Spring Boot application: a {@link PledgeClient} when {@code pledge.coordinator-url}
 * is set; the barrier, outbox and inbox on the application's {@code DataSource} (their tables
 * created at start), running in the application's transactions; the methods annotated with {@link
 * PledgeEndpoint} served as participant ops, those annotated with {@link PledgeSubscriber} as
 * delivery targets through the inbox. Every bean backs off when the application defines its own.
 */
@AutoConfiguration(
    after = {
      DataSourceAutoConfiguration.class,
      DataSourceTransactionManagerAutoConfiguration.class
    })
@EnableConfigurationProperties(PledgeProperties.class)
public class PledgeAutoConfiguration {

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  @ConditionalOnProperty(prefix = "pledge", name = "coordinator-url")
  PledgeClient pledgeClient(PledgeProperties properties) {
    return PledgeClient.create(
        PledgeClientConfig.of(properties.coordinatorUrl())
            .withMaxAttempts(properties.maxAttempts())
            .withTimeouts(Duration.ofSeconds(5), properties.requestTimeout()));
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean(DataSource.class)
  Barrier pledgeBarrier(DataSource dataSource) {
    return Barrier.create(dataSource);
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean(DataSource.class)
  Outbox pledgeOutbox(DataSource dataSource) {
    return Outbox.create(dataSource);
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean(DataSource.class)
  Inbox pledgeInbox(DataSource dataSource) {
    return Inbox.create(dataSource);
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean({DataSource.class, PlatformTransactionManager.class})
  LocalTransactions pledgeLocalTransactions(
      DataSource dataSource, PlatformTransactionManager transactions) {
    return new SpringLocalTransactions(dataSource, transactions);
  }

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean({DataSource.class, PlatformTransactionManager.class})
  Participant pledgeParticipant(Barrier barrier, LocalTransactions transactions) {
    return Participant.create(barrier, transactions);
  }

  @Bean
  static PledgeEndpointRegistry pledgeEndpointRegistry() {
    return new PledgeEndpointRegistry();
  }

  @Bean
  @ConditionalOnBean({DataSource.class, PlatformTransactionManager.class})
  PledgeEndpointServer pledgeEndpointServer(
      PledgeProperties properties,
      Participant participant,
      Inbox inbox,
      LocalTransactions transactions,
      PledgeEndpointRegistry registry) {
    return new PledgeEndpointServer(
        properties.endpoints(), participant, inbox, transactions, registry);
  }
}
