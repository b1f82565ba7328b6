package dev.latentpipeline.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EmbeddedInfrastructurePlanTest {

    @Test
    void autoStartsOnlyWhatIsNotConfigured() {
        assertEquals(new EmbeddedInfrastructure.Plan(true, true), EmbeddedInfrastructure.Plan.of("auto", false, false));
        assertEquals(new EmbeddedInfrastructure.Plan(false, true), EmbeddedInfrastructure.Plan.of("auto", true, false));
        assertEquals(new EmbeddedInfrastructure.Plan(true, false), EmbeddedInfrastructure.Plan.of("auto", false, true));
        assertEquals(new EmbeddedInfrastructure.Plan(false, false), EmbeddedInfrastructure.Plan.of("AUTO", true, true));
    }

    @Test
    void neverAndAlwaysIgnoreTheEndpoints() {
        assertEquals(new EmbeddedInfrastructure.Plan(false, false), EmbeddedInfrastructure.Plan.of("never", false, false));
        assertEquals(new EmbeddedInfrastructure.Plan(true, true), EmbeddedInfrastructure.Plan.of("always", true, true));
    }

    @Test
    void anUnknownModeIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EmbeddedInfrastructure.Plan.of("sometimes", false, false));
        assertEquals("sd.embedded.mode must be auto, always or never, not 'sometimes'", e.getMessage());
    }
}
