package dev.latentpipeline.text;

import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.model.family.TextEncoderSpec;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP tokenizer plus one text encoder: prompt in; the hidden state its family conditions on ([1, tokens, hidden])
 * and, where it has one, the pooled embedding out. The ids are fed in the element type the model declares (int32 or
 * int64, converted at the session edge).
 */
public final class TextEncoder {
    static final String LAST_HIDDEN_STATE = "last_hidden_state";
    private static final Pattern HIDDEN_STATES = Pattern.compile("hidden_states\\.(\\d+)");

    private final OnnxModel model;
    private final ClipTokenizer tokenizer;
    private final String idsInput;
    private final String hiddenOutput;
    private final String pooledOutput;

    /** SD's text encoder: last_hidden_state (or the first output), no pooled embedding. */
    public TextEncoder(OnnxModel model, ClipTokenizer tokenizer) {
        this(model, tokenizer, new TextEncoderSpec(model.name(), null, TextEncoderSpec.HiddenState.LAST, null, null,
                TextEncoderSpec.SpecialTokens.OPENAI_CLIP));
    }

    public TextEncoder(OnnxModel model, ClipTokenizer tokenizer, TextEncoderSpec spec) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.idsInput = model.firstInputNamed("input_ids");
        this.hiddenOutput = hiddenOutput(model, spec);
        this.pooledOutput = spec.pooledOutput();
        if (pooledOutput != null && !model.outputs().containsKey(pooledOutput)) {
            throw new ModelException(model.name() + " has no output '" + pooledOutput + "' (the pooled embedding); it"
                    + " declares " + model.outputs().keySet());
        }
    }

    /**
     * optimum exports hidden_states.0 (the embeddings) to hidden_states.L (the last layer) for L layers, so
     * diffusers' hidden_states[-2] is hidden_states.(L - 1); L comes from config.json's num_hidden_layers, or from
     * the highest hidden_states.N the model declares.
     */
    static String hiddenOutput(OnnxModel model, TextEncoderSpec spec) {
        if (spec.hiddenState() == TextEncoderSpec.HiddenState.LAST) {
            return model.outputs().containsKey(LAST_HIDDEN_STATE) ? LAST_HIDDEN_STATE
                    : model.outputs().keySet().iterator().next();
        }
        int layers = spec.numHiddenLayers() != null ? spec.numHiddenLayers() : -1;
        if (layers < 0) {
            for (String output : model.outputs().keySet()) {
                Matcher m = HIDDEN_STATES.matcher(output);
                if (m.matches()) {
                    layers = Math.max(layers, Integer.parseInt(m.group(1)));
                }
            }
        }
        String name = "hidden_states." + (layers - 1);
        if (layers < 1 || !model.outputs().containsKey(name)) {
            throw new ModelException(model.name() + " has no output " + (layers < 1 ? "hidden_states.N" : name)
                    + " (the penultimate layer's hidden state, diffusers' hidden_states[-2]); it declares "
                    + model.outputs().keySet() + ". Export it with optimum, which writes every layer's hidden states"
                    + " for SDXL.");
        }
        return name;
    }

    /** The output read as the prompt embedding (last_hidden_state, hidden_states.N). */
    public String hiddenOutput() {
        return hiddenOutput;
    }

    public OnnxModel model() {
        return model;
    }

    /**
     * Embeddings of one prompt, and whether its tokens had to be cut to fit the model.
     *
     * @param pooled the pooled embedding [1, projection], or null when this encoder has none for its family
     */
    public record EncodedPrompt(FloatTensor embeddings, FloatTensor pooled, boolean truncated, int droppedTokens,
            String droppedText) {
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
        return new EncodedPrompt(outputs.get(hiddenOutput), pooledOutput == null ? null : outputs.get(pooledOutput),
                tokens.truncated(), tokens.droppedTokenCount(), tokens.droppedText());
    }
}
