package dev.latentpipeline.model.family;

/**
 * Stable Diffusion 2.x (OpenCLIP ViT-H text encoder): told from 1.x by its 1024-wide cross-attention or text
 * encoder, or, in exports without those configs, by its tokenizer padding with "!" (OpenCLIP's pad, where CLIP's is
 * the end-of-text token).
 */
final class Sd2Family extends StableDiffusionFamily {
    static final int OPEN_CLIP_H_WIDTH = 1024;
    static final String OPEN_CLIP_PAD = "!";
    static final FamilyDetector DETECTOR = new FamilyDetector("SD 2.x",
            configs -> StableDiffusionFamily.claims(configs) && isVersion2(configs), Sd2Family::new);

    Sd2Family(ExportConfigs configs) {
        super(configs);
    }

    static boolean isVersion2(ExportConfigs configs) {
        return configs.unetInt("cross_attention_dim")
                .or(() -> configs.textEncoderInt("text_encoder", "hidden_size"))
                .filter(width -> width == 768 || width == OPEN_CLIP_H_WIDTH)
                .map(width -> width == OPEN_CLIP_H_WIDTH)
                .orElseGet(() -> configs.padToken("tokenizer").map(OPEN_CLIP_PAD::equals).orElse(false));
    }

    @Override
    public String name() {
        return "SD 2.x";
    }
}
