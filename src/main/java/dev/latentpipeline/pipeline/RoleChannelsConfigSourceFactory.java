package dev.latentpipeline.pipeline;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.common.MapBackedConfigSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Turns sd.roles into the per-channel switches SmallRye Reactive Messaging reads, so a process subscribes only to
 * its own roles' topics. Its ordinal sits below environment variables, so an operator can still override one
 * channel explicitly.
 */
public class RoleChannelsConfigSourceFactory implements ConfigSourceFactory {
    static final int ORDINAL = 275;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        ConfigValue configured = context.getValue("sd.roles");
        String value = configured == null || configured.getValue() == null ? "all" : configured.getValue();
        Set<Role> roles = Role.parse(value);
        Map<String, String> switches = new HashMap<>();
        for (Role role : Role.values()) {
            if (!role.isStage()) {
                continue;
            }
            switches.put("mp.messaging.incoming." + role.incomingChannel() + ".enabled",
                    Boolean.toString(roles.contains(role)));
        }
        return List.of(new MapBackedConfigSource("sd.roles channel switches", switches, ORDINAL) {
        });
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }
}
