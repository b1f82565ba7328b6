package dev.latentpipeline.denoise;

import dev.latentpipeline.model.family.Conditioning;
import dev.latentpipeline.model.family.UnetInput;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The UNet's conditioning inputs for one job's rows, from the conditioning tensors of its sd.embeddings message as
 * its family maps them ({@link UnetInput}): each conditional tensor once per image, preceded by the unconditional
 * one once per image when the UNet runs the unconditional pass ([uncond x n, cond x n], diffusers' order); plus, for
 * a guidance-embedding UNet, diffusers' get_guidance_scale_embedding(g - 1) as timestep_cond on every row.
 */
public final class UnetConditioning {
    private UnetConditioning() {
    }

    /** The UNet inputs a family's conditioning feeds: its own plus timestep_cond where the UNet embeds guidance. */
    public static Set<String> inputNames(List<UnetInput> inputs, OptionalInt timeCondProjDim) {
        Set<String> names = new HashSet<>();
        inputs.forEach(input -> names.add(input.name()));
        if (timeCondProjDim.isPresent()) {
            names.add(Conditioning.TIMESTEP_COND);
        }
        return names;
    }

    /**
     * @param wire the message's tensors by name, [1, ...] each
     * @param guided whether the rows include the unconditional pass
     */
    public static Map<String, FloatTensor> rows(List<UnetInput> inputs, OptionalInt timeCondProjDim,
            Map<String, FloatTensor> wire, boolean guided, double guidanceScale, int images) {
        Map<String, FloatTensor> rows = new LinkedHashMap<>();
        for (UnetInput input : inputs) {
            FloatTensor conditional = Tensors.repeat(required(wire, input.conditional()), images);
            rows.put(input.name(), guided
                    ? Tensors.concat(Tensors.repeat(required(wire, input.unconditional()), images), conditional)
                    : conditional);
        }
        if (timeCondProjDim.isPresent()) {
            float[] embedding = GuidanceEmbedding.forGuidanceScale(guidanceScale, timeCondProjDim.getAsInt());
            FloatTensor row = new FloatTensor(new long[] {1, embedding.length}, embedding);
            rows.put(Conditioning.TIMESTEP_COND, Tensors.repeat(row, guided ? 2 * images : images));
        }
        return rows;
    }

    private static FloatTensor required(Map<String, FloatTensor> wire, String name) {
        FloatTensor tensor = wire.get(name);
        if (tensor == null) {
            throw new PipelineException(ErrorCode.INTERNAL_ERROR, "stage message lacks the conditioning tensor '"
                    + name + "' (it carries " + wire.keySet() + ")");
        }
        return tensor;
    }
}
