package dev.latentpipeline.pipeline;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The stages one process can run; chosen at start-up with sd.roles (SD_ROLES), comma-separated. */
public enum Role {
    TEXT_ENCODER("text-encoder", "requests"),
    UNET("unet", "embeddings"),
    VAE("vae", "latents"),
    /** The HTTP front door: it reads sd.events with its own consumers, so it has no stage channel to switch. */
    GATEWAY("gateway", null);

    private final String configName;
    private final String incomingChannel;

    Role(String configName, String incomingChannel) {
        this.configName = configName;
        this.incomingChannel = incomingChannel;
    }

    public String configName() {
        return configName;
    }

    /** The channel this role consumes (null: none); it is switched off in processes that do not run the role. */
    public String incomingChannel() {
        return incomingChannel;
    }

    /** True for the roles that run a pipeline stage (and so must honour cancellations). */
    public boolean isStage() {
        return incomingChannel != null;
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
