package dev.latentpipeline.denoise;

import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The noise-predicting UNet. Exports disagree on the timestep input: float or int64, shaped [batch], [1] or a
 * scalar; this reads the declared form from the session and feeds that.
 */
public final class UNet {
    private final OnnxModel model;
    private final String sampleInput;
    private final String timestepInput;
    private final String hiddenInput;
    private final long[] timestepShape;

    public UNet(OnnxModel model) {
        this.model = model;
        this.sampleInput = model.firstInputNamed("sample");
        this.timestepInput = model.firstInputNamed("timestep", "timesteps", "t");
        this.hiddenInput = model.firstInputNamed("encoder_hidden_states");
        this.timestepShape = model.input(timestepInput).getShape();
    }

    /** Predicts the model output (noise, or v for v-prediction models) for every item of the batch. */
    public FloatTensor predict(FloatTensor sample, double timestep, FloatTensor encoderHiddenStates) {
        long batch = sample.dim(0);
        if (encoderHiddenStates.dim(0) != batch) {
            throw new IllegalArgumentException("batch of sample " + sample + " and hidden states "
                    + encoderHiddenStates + " differ");
        }
        Map<String, FloatTensor> feeds = new LinkedHashMap<>();
        feeds.put(sampleInput, sample);
        feeds.put(timestepInput, timestepTensor(batch, timestep));
        feeds.put(hiddenInput, encoderHiddenStates);
        Map<String, FloatTensor> outputs = model.run(feeds);
        return outputs.containsKey("out_sample") ? outputs.get("out_sample") : outputs.values().iterator().next();
    }

    private FloatTensor timestepTensor(long batch, double timestep) {
        long[] shape;
        if (timestepShape.length == 0) {
            shape = new long[0];
        } else if (timestepShape.length == 1 && timestepShape[0] == 1) {
            shape = new long[] {1};
        } else if (timestepShape.length == 1) {
            shape = new long[] {batch};
        } else {
            throw new IllegalArgumentException("unet timestep input has unsupported shape "
                    + Arrays.toString(timestepShape));
        }
        float[] values = new float[Math.toIntExact(FloatTensor.elementCount(shape))];
        Arrays.fill(values, (float) timestep);
        return new FloatTensor(shape, values);
    }
}
