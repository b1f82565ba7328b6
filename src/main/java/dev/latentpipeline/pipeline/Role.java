package dev.latentpipeline.pipeline;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The stages one process can run; chosen at start-up with sd.roles (SD_ROLES), comma-separated. */
public enum Role {
    TEXT_ENCODER("text-encoder", "sd-text-encoder"),
    UNET("unet", "sd-unet"),
    VAE("vae", "sd-vae"),
    /** The HTTP front door: it reads sd.events with its own consumers, in no stage's group. */
    GATEWAY("gateway", null);

    private final String configName;
    private final String consumerGroup;

    Role(String configName, String consumerGroup) {
        this.configName = configName;
        this.consumerGroup = consumerGroup;
    }

    public String configName() {
        return configName;
    }

    /**
     * The Kafka consumer group the role's workers share (null: none). Workers of one role split its input topic
     * partition by partition, so KEDA scales each role on its group's lag.
     */
    public String consumerGroup() {
        return consumerGroup;
    }

    /** The topic the role consumes (null: none). */
    public String inputTopic(PipelineConfig.Topics topics) {
        return switch (this) {
            case TEXT_ENCODER -> topics.requests();
            case UNET -> topics.embeddings();
            case VAE -> topics.latents();
            case GATEWAY -> null;
        };
    }

    /** True for the roles that run a pipeline stage (and so must honour cancellations). */
    public boolean isStage() {
        return consumerGroup != null;
    }

    /** Parses "all" or a comma-separated list such as "text-encoder,vae". */
    public static Set<Role> parse(String value) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String part : value.split(",")) {
            String name = part.trim().toLowerCase(Locale.ROOT);
            if (name.isEmpty()) {
                continue;
            }
            if (name.equals("all")) {
                roles.addAll(EnumSet.allOf(Role.class));
                continue;
            }
            Role match = null;
            for (Role role : values()) {
                if (role.configName.equals(name)) {
                    match = role;
                }
            }
            if (match == null) {
                throw new IllegalArgumentException("unknown role '" + part.trim()
                        + "' in sd.roles; use all, text-encoder, unet, vae or gateway (comma-separated)");
            }
            roles.add(match);
        }
        if (roles.isEmpty()) {
            throw new IllegalArgumentException("sd.roles is empty; use all, text-encoder, unet, vae or gateway");
        }
        return roles;
    }
}
