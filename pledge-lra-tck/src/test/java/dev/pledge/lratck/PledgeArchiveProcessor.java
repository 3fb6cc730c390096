package dev.pledge.lratck;

import org.eclipse.microprofile.lra.tck.TckTestBase;
import org.eclipse.microprofile.lra.tck.participant.api.NonParticipatingTckResource;
import org.eclipse.microprofile.lra.tck.participant.api.ResourceParent;
import org.eclipse.microprofile.lra.tck.service.spi.LRARecoveryService;
import org.jboss.arquillian.container.test.spi.client.deployment.ApplicationArchiveProcessor;
import org.jboss.arquillian.test.spi.TestClass;
import org.jboss.shrinkwrap.api.Archive;
import org.jboss.shrinkwrap.api.spec.WebArchive;

/**
 * Adds to every deployment of the TCK what it needs besides its own classes: Pledge's {@link
 * LRARecoveryService}, the LRA API package, and the TCK's base classes its resources use.
 */
public final class PledgeArchiveProcessor implements ApplicationArchiveProcessor {
  @Override
  public void process(Archive<?> archive, TestClass testClass) {
    if (archive instanceof WebArchive war) {
      war.addClass(PledgeRecoveryService.class)
          .addAsServiceProvider(LRARecoveryService.class, PledgeRecoveryService.class)
          .addPackage(org.eclipse.microprofile.lra.LRAResponse.class.getPackage())
          .addClasses(TckTestBase.class, NonParticipatingTckResource.class, ResourceParent.class);
    }
  }
}
