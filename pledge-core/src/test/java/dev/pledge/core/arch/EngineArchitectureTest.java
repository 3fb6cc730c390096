package dev.pledge.core.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Keeps the engine pure: no clock, sleep, thread, randomness, file or socket inside pledge-core, so
 * the simulator runs the very code the server runs and a seed replays exactly.
 */
class EngineArchitectureTest {
  private static final JavaClasses CORE =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.pledge.core");

  @Test
  void coreReadsNoClock() {
    noClasses()
        .should()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(System.class, "nanoTime")
        .orShould()
        .callMethod(java.time.Instant.class, "now")
        .orShould()
        .dependOnClassesThat()
        .belongToAnyOf(
            java.time.Clock.class, java.time.LocalDateTime.class, java.time.ZonedDateTime.class)
        .because("time is an argument of the deciders")
        .check(CORE);
  }

  @Test
  void coreDrawsNoRandomNumbers() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .belongToAnyOf(
            java.util.Random.class,
            java.util.SplittableRandom.class,
            java.security.SecureRandom.class,
            java.util.UUID.class)
        .orShould()
        .callMethod(Math.class, "random")
        .orShould()
        .dependOnClassesThat()
        .resideInAPackage("java.util.random..")
        .because("retry jitter is drawn from a hash, so decisions are deterministic")
        .check(CORE);
  }

  @Test
  void coreStartsNoThreadsAndTouchesNoIo() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .belongToAnyOf(Thread.class, java.util.concurrent.ExecutorService.class)
        .orShould()
        .dependOnClassesThat()
        .resideInAnyPackage("java.io..", "java.nio.file..", "java.net..", "java.sql..")
        .because("the engine decides; the runtime acts")
        .check(CORE);
  }

  @Test
  void coreDependsOnTheJdkOnly() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideOutsideOfPackages("dev.pledge.core..", "java..")
        .because("pledge-core is JDK only")
        .check(CORE);
  }

  @Test
  void modeDecidersDoNotDependOnEachOther() {
    for (String mode : new String[] {"saga", "tcc", "twopc", "threepc", "msg"}) {
      noClasses()
          .that()
          .resideInAPackage("dev.pledge.core." + mode + "..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(otherModes(mode))
          .check(CORE);
    }
  }

  private static String[] otherModes(String mode) {
    return java.util.Arrays.stream(new String[] {"saga", "tcc", "twopc", "threepc", "msg"})
        .filter(m -> !m.equals(mode))
        .map(m -> "dev.pledge.core." + m + "..")
        .toArray(String[]::new);
  }
}
