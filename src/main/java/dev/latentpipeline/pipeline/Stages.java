package dev.latentpipeline.pipeline;

/** Stage names as they appear in events and stage records. */
public final class Stages {
    public static final String TEXT_ENCODER = "text-encoder";
    public static final String UNET = "unet";
    public static final String VAE = "vae";
    public static final String GATEWAY = "gateway";

    private Stages() {
    }
}
