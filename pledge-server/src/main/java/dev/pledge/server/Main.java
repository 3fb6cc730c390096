package dev.pledge.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pledge} command line of the server jar: {@code server} and {@code demo}. {@code
 * bin/pledge simulate} runs {@code pledge-simulator}'s jar and {@code bin/pledge bench} {@code
 * pledge-bench}'s.
 */
@Command(
    name = "pledge",
    mixinStandardHelpOptions = true,
    version = "pledge 0.1.0-SNAPSHOT",
    description = "Pledge keeps data consistent across microservices.",
    subcommands = {ServerCommand.class, DemoCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
