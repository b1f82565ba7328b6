package dev.latentpipeline.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class RoleTest {

    @Test
    void allMeansEveryStage() {
        assertEquals(EnumSet.allOf(Role.class), Role.parse("all"));
    }

    @Test
    void listsAreCommaSeparatedAndCaseInsensitive() {
        assertEquals(EnumSet.of(Role.TEXT_ENCODER, Role.VAE), Role.parse(" Text-Encoder , vae"));
        assertEquals(EnumSet.of(Role.UNET), Role.parse("unet"));
    }

    @Test
    void unknownRoleIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Role.parse("unet,decoder"));
        assertTrue(e.getMessage().contains("'decoder'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Role.parse(" , "));
    }
}
