package dev.latentpipeline.model.builtin;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The built-in model's colour words and their RGB values in [0, 1]: documented data, so that tests can state the
 * image they expect without reusing the model's own logic. The model averages the colours of all colour-word tokens
 * of a prompt (repeats count); a prompt with none gets {@link #NO_COLOR}.
 */
public final class BuiltinColors {

    /** An RGB colour with channels in [0, 1]. */
    public record Rgb(float r, float g, float b) {
        /** The same colour as a pixel value in [-1, 1] (what the VAE decoder outputs): 2c - 1. */
        public float[] toSigned() {
            return new float[] {2 * r - 1, 2 * g - 1, 2 * b - 1};
        }
    }

    /** Colour of a prompt without colour words (including the empty prompt). */
    public static final Rgb NO_COLOR = new Rgb(0.5f, 0.5f, 0.5f);

    /** Colour words (lower case; each is a single token of the built-in tokenizer) in vocabulary order. */
    public static final Map<String, Rgb> COLORS;

    static {
        // Values are multiples of 1/4 so that 2c - 1 and the averages of a few of them are exact in float32.
        Map<String, Rgb> m = new LinkedHashMap<>();
        m.put("green", new Rgb(0f, 1f, 0f));
        m.put("grey", new Rgb(0.5f, 0.5f, 0.5f));
        m.put("gray", new Rgb(0.5f, 0.5f, 0.5f));
        // "red" after "green"/"grey": their BPE chains need the merge "g r" to outrank "r e" (see BuiltinTokenizer).
        m.put("red", new Rgb(1f, 0f, 0f));
        m.put("blue", new Rgb(0f, 0f, 1f));
        m.put("yellow", new Rgb(1f, 1f, 0f));
        m.put("white", new Rgb(1f, 1f, 1f));
        m.put("black", new Rgb(0f, 0f, 0f));
        m.put("cyan", new Rgb(0f, 1f, 1f));
        m.put("magenta", new Rgb(1f, 0f, 1f));
        m.put("orange", new Rgb(1f, 0.5f, 0f));
        m.put("purple", new Rgb(0.5f, 0f, 0.5f));
        m.put("pink", new Rgb(1f, 0.75f, 0.75f));
        COLORS = java.util.Collections.unmodifiableMap(m);
    }

    private BuiltinColors() {
    }
}
