package dev.latentpipeline.text;

import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Map;

/** CLIP tokenizer plus text encoder: prompt in, embeddings [1, tokens, hidden] out. */
public final class TextEncoder {
    private final OnnxModel model;
    private final ClipTokenizer tokenizer;
    private final String idsInput;

    public TextEncoder(OnnxModel model, ClipTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.idsInput = model.firstInputNamed("input_ids");
    }

    /** Embeddings of one prompt, and whether its tokens had to be cut to fit the model. */
    public record EncodedPrompt(FloatTensor embeddings, boolean truncated, int droppedTokens, String droppedText) {
    }

    public EncodedPrompt encode(String prompt) {
        TokenizedPrompt tokens = tokenizer.tokenize(prompt);
        int[] ids = tokens.ids();
        float[] feed = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            feed[i] = ids[i];
        }
        // The session edge casts to the model's declared id type (int32 or int64).
        Map<String, FloatTensor> outputs = model.run(Map.of(idsInput,
                new FloatTensor(new long[] {1, ids.length}, feed)));
        FloatTensor hidden = outputs.containsKey("last_hidden_state")
                ? outputs.get("last_hidden_state") : outputs.values().iterator().next();
        return new EncodedPrompt(hidden, tokens.truncated(), tokens.droppedTokenCount(), tokens.droppedText());
    }
}
