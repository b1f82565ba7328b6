package dev.latentpipeline.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoleChannelsConfigSourceFactoryTest {

    private static SmallRyeConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(properties, "test", 250))
                .withSources(new RoleChannelsConfigSourceFactory())
                .build();
    }

    private static boolean enabled(SmallRyeConfig config, String channel) {
        return config.getValue("mp.messaging.incoming." + channel + ".enabled", Boolean.class);
    }

    @Test
    void aUnetWorkerConsumesOnlyEmbeddings() {
        SmallRyeConfig config = config(Map.of("sd.roles", "unet"));
        assertEquals(false, enabled(config, "requests"));
        assertEquals(true, enabled(config, "embeddings"));
        assertEquals(false, enabled(config, "latents"));
    }

    @Test
    void withoutRolesEveryStageRuns() {
        SmallRyeConfig config = config(Map.of());
        assertEquals(true, enabled(config, "requests"));
        assertEquals(true, enabled(config, "embeddings"));
        assertEquals(true, enabled(config, "latents"));
    }

    @Test
    void anExplicitChannelSwitchFromAHigherSourceStillWins() {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(Map.of("sd.roles", "vae",
                        "mp.messaging.incoming.requests.enabled", "true"), "env-like", 300))
                .withSources(new RoleChannelsConfigSourceFactory())
                .build();
        assertEquals(true, enabled(config, "requests"));
        assertEquals(true, enabled(config, "latents"));
        assertEquals(false, enabled(config, "embeddings"));
    }

    @Test
    void aTypoInRolesStopsStartUp() {
        assertThrows(RuntimeException.class, () -> config(Map.of("sd.roles", "unet,vea")));
    }
}
