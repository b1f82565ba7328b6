package dev.latentpipeline.text;

import dev.latentpipeline.model.family.Conditioning;
import dev.latentpipeline.model.family.ModelFamily;
import dev.latentpipeline.model.family.PromptText;
import dev.latentpipeline.model.family.TextEncoderSpec;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A request's conditioning as its family describes it, diffusers' encode_prompt for any number of CLIP encoders:
 * each encoder's hidden state of its prompt, concatenated on the feature axis in the family's order; the pooled
 * embedding of the encoder that has one; the same for the negative side when the UNet runs the unconditional pass
 * (zeros of the same shapes when the family says so); plus what the family makes from the request alone.
 */
public final class PromptConditioning {
    private final ModelFamily family;
    private final List<TextEncoder> encoders;

    /** @param encoders one per {@link ModelFamily#textEncoders()}, in that order */
    public PromptConditioning(ModelFamily family, List<TextEncoder> encoders) {
        if (encoders.size() != family.textEncoders().size()) {
            throw new IllegalArgumentException(family.name() + " has " + family.textEncoders().size()
                    + " text encoders, got " + encoders.size());
        }
        this.family = family;
        this.encoders = List.copyOf(encoders);
    }

    /** The tensors for sd.embeddings by wire name, and notes for the user. */
    public record Encoded(Map<String, FloatTensor> tensors, List<String> warnings) {
    }

    public Encoded encode(GenerationRequest request) {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        Set<String> warnings = new LinkedHashSet<>();
        Side conditional = side(family.prompts(request), warnings, true);
        tensors.put(Conditioning.PROMPT_EMBEDS, conditional.hidden());
        if (conditional.pooled() != null) {
            tensors.put(Conditioning.POOLED_PROMPT_EMBEDS, conditional.pooled());
        }
        boolean guided = family.classifierFreeGuidance(request);
        if (guided) {
            Optional<List<PromptText>> negatives = family.negativePrompts(request);
            Side unconditional = negatives.isPresent() ? side(negatives.get(), warnings, false)
                    : new Side(zerosLike(conditional.hidden()),
                            conditional.pooled() == null ? null : zerosLike(conditional.pooled()));
            tensors.put(Conditioning.NEGATIVE_PROMPT_EMBEDS, unconditional.hidden());
            if (unconditional.pooled() != null) {
                tensors.put(Conditioning.NEGATIVE_POOLED_PROMPT_EMBEDS, unconditional.pooled());
            }
        } else if (request.guided() && request.negativePrompt() != null) {
            warnings.add("negative_prompt has no effect: this model's UNet takes the guidance scale as an embedding "
                    + "(timestep_cond) and runs no unconditional pass, as in diffusers");
        }
        tensors.putAll(family.requestConditioning(request, guided));
        warnings.addAll(family.requestNotes(request));
        return new Encoded(tensors, List.copyOf(warnings));
    }

    private record Side(FloatTensor hidden, FloatTensor pooled) {
    }

    private Side side(List<PromptText> prompts, Set<String> warnings, boolean conditional) {
        List<FloatTensor> hidden = new ArrayList<>(encoders.size());
        FloatTensor pooled = null;
        for (int i = 0; i < encoders.size(); i++) {
            PromptText prompt = prompts.get(i);
            TextEncoder.EncodedPrompt encoded = encoders.get(i).encode(prompt.text());
            hidden.add(encoded.embeddings());
            TextEncoderSpec spec = family.textEncoders().get(i);
            if (spec.pooledOutput() != null && pooled == null) {
                pooled = encoded.pooled();
            }
            if (encoded.truncated()) {
                warnings.add(prompt.field().replace('_', ' ') + " was truncated to the text encoder's limit: "
                        + encoded.droppedTokens() + " tokens were dropped"
                        + (conditional ? ": \"" + encoded.droppedText() + "\"" : ""));
            }
        }
        return new Side(hidden.size() == 1 ? hidden.get(0) : Tensors.concatLastAxis(hidden), pooled);
    }

    private static FloatTensor zerosLike(FloatTensor t) {
        return FloatTensor.zeros(t.shape());
    }
}
