package dev.latentpipeline.model.family;

/**
 * One text encoder of a family: its model folder, its tokenizer folder, which hidden state becomes the prompt
 * embedding, and which output (if any) is the pooled embedding.
 *
 * @param numHiddenLayers the encoder's layers from its config.json, when known: the penultimate hidden state is
 *        optimum's {@code hidden_states.(numHiddenLayers - 1)}; null: read from the model's outputs
 * @param pooledOutput the output that becomes the pooled prompt embedding (SDXL: text_encoder_2's text_embeds)
 */
public record TextEncoderSpec(String folder, String tokenizerFolder, HiddenState hiddenState, Integer numHiddenLayers,
        String pooledOutput, SpecialTokens specialTokens) {

    /** Which hidden state the UNet is conditioned on. */
    public enum HiddenState {
        /** {@code last_hidden_state} (after the final layer norm): SD 1.x and 2.x. */
        LAST,
        /** diffusers' {@code hidden_states[-2]} (before the last layer, no final norm): SDXL's encoders. */
        PENULTIMATE
    }

    /** How the prompt's text meets the tokenizer's special tokens (bos, eos, pad, unk). */
    public enum SpecialTokens {
        /**
         * OpenAI's CLIP / open_clip: only the start and end texts are special, matched after normalising; a typed
         * pad token ("!" in SD 2.x) is text. What SD 1.x and 2.x were trained with.
         */
        OPENAI_CLIP,
        /**
         * Hugging Face's tokenizers, which diffusers' SDXL pipelines use: every special token, the pad token
         * included, is split out of the raw text before normalising and becomes its id ("!" -> 0 in tokenizer_2).
         */
        HUGGING_FACE
    }
}
