package dev.pledge.eventstore;

import dev.pledge.eventstore.spi.ChangeFeed;

/**
 * The feed of SQLite and MariaDB: it observes only this process's commits, which the store tells it
 * of, so "elsewhere" is the store's own writer calling {@link ChangeFeed#committed}.
 */
class SignalledFeedTest extends ChangeFeedContract {
  @Override
  protected ChangeFeed open() {
    return new SignalledFeed();
  }

  @Override
  protected void commitElsewhere(ChangeFeed feed) {
    feed.committed(7);
  }
}
