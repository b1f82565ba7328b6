package dev.latentpipeline.text;

import java.util.Arrays;
import java.util.Objects;

/**
 * A prompt as the text encoder sees it: {@code [bos, tokens..., eos, pad...]}, exactly {@code maxLength} ids.
 *
 * @param ids               the padded ids (the array is copied in and out)
 * @param tokenCount        prompt tokens kept, not counting bos and eos; the eos sits at {@code tokenCount + 1}
 * @param truncated         whether prompt tokens were dropped to fit
 * @param droppedTokenCount how many prompt tokens were dropped
 * @param droppedText       the dropped tokens decoded back to text ("" when nothing was dropped)
 */
public record TokenizedPrompt(int[] ids, int tokenCount, boolean truncated, int droppedTokenCount,
                              String droppedText) {

    public TokenizedPrompt {
        ids = ids.clone();
        Objects.requireNonNull(droppedText, "droppedText");
        if (tokenCount < 0 || tokenCount + 2 > ids.length) {
            throw new IllegalArgumentException("tokenCount " + tokenCount + " does not fit " + ids.length + " ids");
        }
        if (truncated != droppedTokenCount > 0) {
            throw new IllegalArgumentException("truncated=" + truncated + " but droppedTokenCount=" + droppedTokenCount);
        }
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    /** Positions that are not padding: bos, the kept tokens and eos (the text encoder's attention length). */
    public int length() {
        return tokenCount + 2;
    }

    /** Index of the eos id, whose hidden state CLIP pools. */
    public int eosIndex() {
        return tokenCount + 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedPrompt p && Arrays.equals(ids, p.ids) && tokenCount == p.tokenCount
                && truncated == p.truncated && droppedTokenCount == p.droppedTokenCount
                && droppedText.equals(p.droppedText);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + tokenCount;
    }

    @Override
    public String toString() {
        return "TokenizedPrompt[ids=" + Arrays.toString(ids) + ", tokenCount=" + tokenCount + ", truncated="
                + truncated + ", droppedTokenCount=" + droppedTokenCount + ", droppedText=" + droppedText + "]";
    }
}
