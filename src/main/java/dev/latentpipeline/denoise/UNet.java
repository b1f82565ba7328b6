package dev.latentpipeline.denoise;

import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The noise-predicting UNet, called on a batch of rows that may belong to several jobs. Exports disagree on the
 * timestep input: float or int64, shaped [batch], [1] or a scalar; this reads the declared form from the session
 * and feeds that. Only a [batch] timestep lets rows at different timesteps share one call.
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
        if (timestepShape.length > 1) {
            throw new IllegalArgumentException("unet timestep input has unsupported shape "
                    + Arrays.toString(timestepShape));
        }
    }

    public OnnxModel model() {
        return model;
    }

    /** The name of the text conditioning input (encoder_hidden_states). */
    public String hiddenInput() {
        return hiddenInput;
    }

    /** Whether one call can carry a different timestep per row: the export declares timestep as [batch]. */
    public boolean timestepPerRow() {
        return timestepShape.length == 1 && timestepShape[0] != 1;
    }

    /** Predicts the model output (noise, or v for v-prediction models) for every item of the batch. */
    public FloatTensor predict(FloatTensor sample, double timestep, FloatTensor encoderHiddenStates) {
        float[] timesteps = new float[Math.toIntExact(sample.dim(0))];
        Arrays.fill(timesteps, (float) timestep);
        return predict(sample, timesteps, Map.of(hiddenInput, encoderHiddenStates), Map.of()).prediction();
    }

    /** One call's prediction, rows in the order of the sample, and its time inside ONNX Runtime. */
    public record Prediction(FloatTensor prediction, long nanos) {
    }

    /**
     * One UNet call over {@code sample} [rows, c, h, w] with a timestep per row (all equal unless
     * {@link #timestepPerRow}); {@code conditioning} and {@code prepared} hold the other inputs, each with the same
     * number of rows (prepared: converted once and reused across steps).
     */
    public Prediction predict(FloatTensor sample, float[] timesteps, Map<String, FloatTensor> conditioning,
            Map<String, OnnxModel.PreparedInput> prepared) {
        long rows = sample.dim(0);
        if (timesteps.length != rows) {
            throw new IllegalArgumentException(rows + " sample rows but " + timesteps.length + " timesteps");
        }
        conditioning.forEach((name, tensor) -> {
            if (tensor.dim(0) != rows) {
                throw new IllegalArgumentException("batch of sample " + sample + " and " + name + " " + tensor
                        + " differ");
            }
        });
        Map<String, FloatTensor> feeds = new LinkedHashMap<>();
        feeds.put(sampleInput, sample);
        feeds.put(timestepInput, timestepTensor(timesteps));
        feeds.putAll(conditioning);
        OnnxModel.Run run = model.run(feeds, prepared);
        Map<String, FloatTensor> outputs = run.outputs();
        FloatTensor out = outputs.containsKey("out_sample") ? outputs.get("out_sample")
                : outputs.values().iterator().next();
        return new Prediction(out, run.nanos());
    }

    private FloatTensor timestepTensor(float[] timesteps) {
        if (timestepPerRow()) {
            return new FloatTensor(new long[] {timesteps.length}, timesteps.clone());
        }
        for (float t : timesteps) {
            if (t != timesteps[0]) {
                throw new IllegalArgumentException("this UNet takes one timestep per call (declared "
                        + Arrays.toString(timestepShape) + "), got " + Arrays.toString(timesteps));
            }
        }
        long[] shape = timestepShape.length == 0 ? new long[0] : new long[] {1};
        return new FloatTensor(shape, new float[] {timesteps[0]});
    }
}
