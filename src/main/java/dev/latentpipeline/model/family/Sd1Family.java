package dev.latentpipeline.model.family;

/** Stable Diffusion 1.x (CLIP ViT-L text encoder, 768 wide), and any SD-layout export not recognisably 2.x. */
final class Sd1Family extends StableDiffusionFamily {
    static final FamilyDetector DETECTOR = new FamilyDetector("SD 1.x", StableDiffusionFamily::claims, Sd1Family::new);

    Sd1Family(ExportConfigs configs) {
        super(configs);
    }

    @Override
    public String name() {
        return "SD 1.x";
    }
}
