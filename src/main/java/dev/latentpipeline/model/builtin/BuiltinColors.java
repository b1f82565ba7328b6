package dev.latentpipeline.model.builtin;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built-in model's colour words and their RGB values in [0, 1]: documented data, so that tests can state the
 * image they expect without reusing the model's own logic. The model averages the colours of all colour-word tokens
 * of a prompt (repeats count); a prompt with none gets {@link #NO_COLOR}. {@link #promptColor} states that rule for a
 * prompt's text.
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

    /** CLIP's pre-tokenizer pattern (simple_tokenizer.py, transformers' CLIPTokenizer): BPE runs on each piece. */
    private static final Pattern CLIP_PIECES = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE);
    /** Tokens a prompt may use: CLIP's 77 minus the start and end tokens. */
    private static final int PROMPT_TOKENS = 75;

    private BuiltinColors() {
    }

    /**
     * The colour the built-in text encoders compute for a prompt: the mean colour of its colour-word tokens, repeats
     * counted, {@link #NO_COLOR} without any. A colour-word token is a CLIP pre-tokenizer piece equal to a colour word
     * (after lower-casing and collapsing whitespace, as CLIP's tokenizer cleans text): "Red," and "red-blue" count,
     * "reddish" and "'red" (the piece "'re" comes first) do not.
     *
     * @throws IllegalArgumentException for a prompt that might need more than 75 tokens, where truncation would
     *         decide which colour words count (every piece takes at most one token per UTF-8 byte, a colour word one)
     */
    public static Rgb promptColor(String prompt) {
        String clean = prompt.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
        Matcher pieces = CLIP_PIECES.matcher(clean);
        double r = 0;
        double g = 0;
        double b = 0;
        int colorTokens = 0;
        int maxTokens = 0;
        while (pieces.find()) {
            Rgb c = COLORS.get(pieces.group());
            if (c != null) {
                r += c.r();
                g += c.g();
                b += c.b();
                colorTokens++;
                maxTokens++;
            } else {
                maxTokens += pieces.group().getBytes(StandardCharsets.UTF_8).length;
            }
        }
        if (maxTokens > PROMPT_TOKENS) {
            throw new IllegalArgumentException("prompt may be longer than " + PROMPT_TOKENS
                    + " tokens, so truncation would decide its colour: " + prompt);
        }
        return colorTokens == 0 ? NO_COLOR
                : new Rgb((float) (r / colorTokens), (float) (g / colorTokens), (float) (b / colorTokens));
    }
}
