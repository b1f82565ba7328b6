package dev.latentpipeline.model.family;

/**
 * Names of the conditioning tensors on sd.embeddings, diffusers' names for them: the text stage writes them, the
 * UNet stage feeds them to the inputs its family maps them to ({@link UnetInput}).
 */
public final class Conditioning {
    /** [1, sequence, features]: the text encoders' hidden states (SDXL: both, concatenated on the feature axis). */
    public static final String PROMPT_EMBEDS = "prompt_embeds";
    public static final String NEGATIVE_PROMPT_EMBEDS = "negative_prompt_embeds";
    /** [1, projection]: SDXL's pooled embedding, text_encoder_2's text_embeds. */
    public static final String POOLED_PROMPT_EMBEDS = "pooled_prompt_embeds";
    public static final String NEGATIVE_POOLED_PROMPT_EMBEDS = "negative_pooled_prompt_embeds";
    /** [1, 6]: SDXL's micro-conditioning (original size, crop top-left, target size). */
    public static final String ADD_TIME_IDS = "add_time_ids";
    public static final String NEGATIVE_ADD_TIME_IDS = "negative_add_time_ids";

    /** The UNet input of guidance-distilled (LCM) UNets: the guidance-scale embedding. */
    public static final String TIMESTEP_COND = "timestep_cond";

    private Conditioning() {
    }
}
