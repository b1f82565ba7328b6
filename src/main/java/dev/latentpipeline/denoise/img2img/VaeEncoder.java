package dev.latentpipeline.denoise.img2img;

import dev.latentpipeline.model.LatentScaling;
import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Arrays;
import java.util.Map;

/**
 * The door from pixels to latent space (img2img). Exports come in two forms: diffusers' own ONNX export samples
 * inside the graph and outputs {@code latent_sample} [n, 4, h, w]; optimum outputs {@code latent_parameters}
 * [n, 8, h, w], mean and log-variance concatenated on the channel axis, and leaves the sampling to the caller.
 */
public final class VaeEncoder {
    static final String SAMPLE = "latent_sample";
    static final String PARAMETERS = "latent_parameters";

    private final OnnxModel model;
    private final String imageInput;
    private final LatentScaling scaling;

    /** An encoder whose latents take SD 1.x's plain scaling_factor. */
    public VaeEncoder(OnnxModel model, float scalingFactor) {
        this(model, LatentScaling.of(scalingFactor));
    }

    public VaeEncoder(OnnxModel model, LatentScaling scaling) {
        this.model = model;
        this.imageInput = model.firstInputNamed("sample", "images", "pixel_values");
        this.scaling = scaling;
    }

    /** Encodes images [n, 3, H, W] in [-1, 1]. */
    public LatentDistribution encode(FloatTensor image) {
        Map<String, FloatTensor> outputs = model.run(Map.of(imageInput, image));
        FloatTensor out = outputs.containsKey(SAMPLE) ? outputs.get(SAMPLE)
                : outputs.containsKey(PARAMETERS) ? outputs.get(PARAMETERS) : outputs.values().iterator().next();
        long channels = out.rank() == 4 ? out.dim(1) : -1;
        if (channels == 4 && !outputs.containsKey(PARAMETERS)) {
            return new LatentDistribution(out, null, scaling);
        }
        if (channels == 8) {
            return new LatentDistribution(channelHalf(out, 0), channelHalf(out, 1), scaling);
        }
        throw new ModelException(model.name() + ": expected latent_sample [n, 4, h, w] or latent_parameters"
                + " [n, 8, h, w], got " + Arrays.toString(out.shape()));
    }

    /** Channels [4 half, 4 half + 4) of [n, 8, h, w]: torch.chunk(parameters, 2, dim=1). */
    private static FloatTensor channelHalf(FloatTensor parameters, int half) {
        long[] shape = parameters.shape();
        int n = (int) shape[0];
        int plane = (int) (shape[2] * shape[3]);
        float[] source = parameters.data();
        float[] data = new float[n * 4 * plane];
        for (int b = 0; b < n; b++) {
            System.arraycopy(source, (b * 8 + half * 4) * plane, data, b * 4 * plane, 4 * plane);
        }
        return new FloatTensor(new long[] {n, 4, shape[2], shape[3]}, data);
    }
}
