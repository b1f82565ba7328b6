package dev.latentpipeline.model.family;

import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * SDXL as diffusers' StableDiffusionXLPipeline and StableDiffusionXLImg2ImgPipeline run it (optimum's
 * ORTStableDiffusionXL* layout): two CLIP text encoders, whose penultimate hidden states are concatenated on the
 * feature axis (text_encoder's first); text_encoder_2's text_embeds as the pooled embedding; the UNet's
 * text_embeds and time_ids; force_zeros_for_empty_prompt from model_index.json.
 */
final class SdxlFamily extends BaseFamily {
    static final Set<String> PIPELINES = Set.of("StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline",
            "ORTStableDiffusionXLPipeline", "ORTStableDiffusionXLImg2ImgPipeline");
    static final FamilyDetector DETECTOR = new FamilyDetector("SDXL", SdxlFamily::claims, SdxlFamily::new);
    /** SDXL's VAE scaling factor. */
    static final float SCALING_FACTOR = 0.13025f;
    /** diffusers' default_sample_size for SDXL without a UNet config: 128 latents, 1024 pixels. */
    static final int SAMPLE_SIZE = 128;
    static final Set<String> FIELDS = Set.of("prompt_2", "negative_prompt_2", "original_size",
            "crops_coords_top_left", "target_size", "negative_original_size", "negative_crops_coords_top_left",
            "negative_target_size");

    private static final List<UnetInput> UNET_INPUTS = List.of(
            new UnetInput("encoder_hidden_states", Conditioning.PROMPT_EMBEDS, Conditioning.NEGATIVE_PROMPT_EMBEDS),
            new UnetInput("text_embeds", Conditioning.POOLED_PROMPT_EMBEDS,
                    Conditioning.NEGATIVE_POOLED_PROMPT_EMBEDS),
            new UnetInput("time_ids", Conditioning.ADD_TIME_IDS, Conditioning.NEGATIVE_ADD_TIME_IDS));

    private final List<TextEncoderSpec> encoders;
    private final boolean forceZerosForEmptyPrompt;

    SdxlFamily(ExportConfigs configs) {
        super(configs, SAMPLE_SIZE, SCALING_FACTOR);
        if (!configs.layout().has("text_encoder") || !configs.layout().has("text_encoder_2")) {
            throw new ModelException("an SDXL export needs text_encoder/ and text_encoder_2/; this one has "
                    + (configs.layout().has("text_encoder_2") ? "only text_encoder_2/ (the SDXL refiner's layout, "
                    + "which this pipeline does not run)" : "no text_encoder_2/"));
        }
        if (configs.pipelineOption("requires_aesthetics_score").orElse(false)) {
            throw new ModelException("model_index.json says requires_aesthetics_score (the SDXL refiner): its "
                    + "aesthetic-score time ids are not supported");
        }
        // diffusers' StableDiffusionXLPipeline.__init__ default.
        this.forceZerosForEmptyPrompt = configs.pipelineOption("force_zeros_for_empty_prompt").orElse(true);
        TextEncoderSpec.SpecialTokens hf = TextEncoderSpec.SpecialTokens.HUGGING_FACE;
        this.encoders = List.of(
                new TextEncoderSpec("text_encoder", "tokenizer", TextEncoderSpec.HiddenState.PENULTIMATE,
                        configs.textEncoderInt("text_encoder", "num_hidden_layers").orElse(null), null, hf),
                new TextEncoderSpec("text_encoder_2", "tokenizer_2", TextEncoderSpec.HiddenState.PENULTIMATE,
                        configs.textEncoderInt("text_encoder_2", "num_hidden_layers").orElse(null), "text_embeds", hf));
    }

    static boolean claims(ExportConfigs configs) {
        return configs.pipelineClass().map(PIPELINES::contains).orElseGet(() -> hasSdxlParts(configs));
    }

    /** A second text encoder, or a UNet with SDXL's added text-time conditioning. */
    static boolean hasSdxlParts(ExportConfigs configs) {
        return configs.layout().has("text_encoder_2")
                || configs.unetText("addition_embed_type").map("text_time"::equals).orElse(false);
    }

    @Override
    public String name() {
        return "SDXL";
    }

    @Override
    public String latentSpace() {
        return "sdxl";
    }

    boolean forceZerosForEmptyPrompt() {
        return forceZerosForEmptyPrompt;
    }

    @Override
    public List<TextEncoderSpec> textEncoders() {
        return encoders;
    }

    /** encode_prompt: {@code prompt_2 = prompt_2 or prompt} (so "" falls back too). */
    @Override
    public List<PromptText> prompts(GenerationRequest request) {
        return List.of(new PromptText("prompt", request.prompt()), or("prompt_2", request.prompt2(),
                new PromptText("prompt", request.prompt())));
    }

    /**
     * encode_prompt: zeros when negative_prompt is None and force_zeros_for_empty_prompt; otherwise
     * {@code negative_prompt = negative_prompt or ""} and {@code negative_prompt_2 = negative_prompt_2 or
     * negative_prompt}.
     */
    @Override
    public Optional<List<PromptText>> negativePrompts(GenerationRequest request) {
        if (request.negativePrompt() == null && forceZerosForEmptyPrompt) {
            return Optional.empty();
        }
        PromptText first = new PromptText("negative_prompt",
                request.negativePrompt() == null ? "" : request.negativePrompt());
        return Optional.of(List.of(first, or("negative_prompt_2", request.negativePrompt2(), first)));
    }

    @Override
    public Map<String, FloatTensor> requestConditioning(GenerationRequest request, boolean guided) {
        Map<String, FloatTensor> ids = new LinkedHashMap<>();
        ids.put(Conditioning.ADD_TIME_IDS, row(SdxlTimeIds.conditional(request)));
        if (guided) {
            ids.put(Conditioning.NEGATIVE_ADD_TIME_IDS, row(SdxlTimeIds.unconditional(request)));
        }
        return ids;
    }

    @Override
    public List<String> requestNotes(GenerationRequest request) {
        List<String> notes = new ArrayList<>();
        if (request.imageToImage() && request.negativeCropsCoordsTopLeft() != null) {
            notes.add("negative_crops_coords_top_left is not used for img2img: diffusers' "
                    + "StableDiffusionXLImg2ImgPipeline takes crops_coords_top_left for both sides");
        }
        if (request.negativePrompt() == null && request.negativePrompt2() != null && forceZerosForEmptyPrompt
                && classifierFreeGuidance(request)) {
            notes.add("negative_prompt_2 is not used without negative_prompt: this model conditions the "
                    + "unconditional side on zeros (force_zeros_for_empty_prompt)");
        }
        return notes;
    }

    @Override
    public List<UnetInput> unetInputs() {
        return UNET_INPUTS;
    }

    @Override
    public Set<String> honouredFields() {
        return FIELDS;
    }

    private static FloatTensor row(float[] values) {
        return new FloatTensor(new long[] {1, values.length}, values);
    }

    /** Python's {@code value or fallback}: absent and "" both fall back. */
    private static PromptText or(String field, String value, PromptText fallback) {
        return value == null || value.isEmpty() ? fallback : new PromptText(field, value);
    }
}
