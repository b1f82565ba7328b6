package dev.latentpipeline.model.family;

import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * SD 1.x and 2.x as diffusers' StableDiffusionPipeline (and its ONNX, img2img and LCM forms) runs them: one CLIP
 * text encoder, its last_hidden_state as the UNet's encoder_hidden_states, "" for a missing negative prompt. The
 * two versions differ only in what the export says (embedding width, pad token, prediction type, sample size).
 */
abstract class StableDiffusionFamily extends BaseFamily {
    /** model_index.json class names of the pipelines this family runs: diffusers', its ONNX ones, optimum's. */
    static final Set<String> PIPELINES = Set.of("StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline",
            "OnnxStableDiffusionPipeline", "OnnxStableDiffusionImg2ImgPipeline", "ORTStableDiffusionPipeline",
            "ORTStableDiffusionImg2ImgPipeline", "LatentConsistencyModelPipeline",
            "LatentConsistencyModelImg2ImgPipeline", "ORTLatentConsistencyModelPipeline",
            "ORTLatentConsistencyModelImg2ImgPipeline");
    /** SD 1.x's VAE scaling factor, for exports whose VAE has no config (diffusers' own ONNX export). */
    static final float SCALING_FACTOR = 0.18215f;
    /** diffusers' ONNX pipelines default to 512 x 512: 64 latents x 8. */
    static final int SAMPLE_SIZE = 64;

    private static final TextEncoderSpec TEXT_ENCODER = new TextEncoderSpec("text_encoder", "tokenizer",
            TextEncoderSpec.HiddenState.LAST, null, null, TextEncoderSpec.SpecialTokens.OPENAI_CLIP);
    private static final UnetInput HIDDEN = new UnetInput("encoder_hidden_states", Conditioning.PROMPT_EMBEDS,
            Conditioning.NEGATIVE_PROMPT_EMBEDS);

    StableDiffusionFamily(ExportConfigs configs) {
        super(configs, SAMPLE_SIZE, SCALING_FACTOR);
        if (configs.layout().has("text_encoder_2")) {
            throw new ModelException("model_index.json names an SD pipeline (" + configs.pipelineClass().orElse("?")
                    + ") but the export has text_encoder_2/, which only SDXL has");
        }
    }

    /** Whether model_index.json names an SD pipeline, or the export has none and no SDXL parts. */
    static boolean claims(ExportConfigs configs) {
        return configs.pipelineClass().map(PIPELINES::contains)
                .orElseGet(() -> !SdxlFamily.hasSdxlParts(configs));
    }

    @Override
    public List<TextEncoderSpec> textEncoders() {
        return List.of(TEXT_ENCODER);
    }

    @Override
    public List<PromptText> prompts(GenerationRequest request) {
        return List.of(new PromptText("prompt", request.prompt()));
    }

    /** diffusers' encode_prompt: uncond_tokens = [""] when negative_prompt is None. */
    @Override
    public Optional<List<PromptText>> negativePrompts(GenerationRequest request) {
        return Optional.of(List.of(new PromptText("negative_prompt",
                request.negativePrompt() == null ? "" : request.negativePrompt())));
    }

    @Override
    public Map<String, FloatTensor> requestConditioning(GenerationRequest request, boolean guided) {
        return Map.of();
    }

    @Override
    public List<String> requestNotes(GenerationRequest request) {
        return List.of();
    }

    @Override
    public List<UnetInput> unetInputs() {
        return List.of(HIDDEN);
    }

    @Override
    public Set<String> honouredFields() {
        return Set.of();
    }
}
