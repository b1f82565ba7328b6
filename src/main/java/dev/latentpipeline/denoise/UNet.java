package dev.latentpipeline.denoise;

import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The noise-predicting UNet, called on a batch of rows that may belong to several jobs. Exports disagree on the
 * timestep input: float or int64, shaped [batch], [1] or a scalar; this reads the declared form from the session
 * and feeds that. Only a [batch] timestep lets rows at different timesteps share one call. Its other inputs are the
 * conditioning its model family names (encoder_hidden_states; SDXL's text_embeds and time_ids; timestep_cond for a
 * guidance-embedding UNet): checked against the session when it opens, so a mismatch fails at load, naming both.
 */
public final class UNet {
    static final String HIDDEN_INPUT = "encoder_hidden_states";

    private final OnnxModel model;
    private final String sampleInput;
    private final String timestepInput;
    private final Set<String> conditioningInputs;
    private final long[] timestepShape;

    /** An SD UNet: encoder_hidden_states is its only conditioning. */
    public UNet(OnnxModel model) {
        this(model, Set.of(HIDDEN_INPUT));
    }

    /** @param conditioningInputs every input besides sample and timestep that the family feeds */
    public UNet(OnnxModel model, Set<String> conditioningInputs) {
        this.model = model;
        this.sampleInput = model.firstInputNamed("sample");
        this.timestepInput = model.firstInputNamed("timestep", "timesteps", "t");
        this.timestepShape = model.input(timestepInput).getShape();
        if (timestepShape.length > 1) {
            throw new IllegalArgumentException("unet timestep input has unsupported shape "
                    + Arrays.toString(timestepShape));
        }
        this.conditioningInputs = Set.copyOf(conditioningInputs);
        Set<String> missing = new TreeSet<>(conditioningInputs);
        missing.removeAll(model.inputs().keySet());
        Set<String> unfed = new TreeSet<>(model.inputs().keySet());
        unfed.removeAll(conditioningInputs);
        unfed.remove(sampleInput);
        unfed.remove(timestepInput);
        if (!missing.isEmpty() || !unfed.isEmpty()) {
            throw new ModelException(model.name() + " declares the inputs " + model.inputs().keySet()
                    + "; its model family feeds " + sampleInput + ", " + timestepInput + " and " + new TreeSet<>(
                    conditioningInputs) + (missing.isEmpty() ? "" : " (missing: " + missing + ")")
                    + (unfed.isEmpty() ? "" : " (not fed: " + unfed + ")")
                    + ". Check the export's model_index.json and unet/config.json (time_cond_proj_dim, "
                    + "addition_embed_type) against the model.");
        }
    }

    public OnnxModel model() {
        return model;
    }

    /** The conditioning inputs each call takes, besides sample and timestep. */
    public Set<String> conditioningInputs() {
        return conditioningInputs;
    }

    /** Whether one call can carry a different timestep per row: the export declares timestep as [batch]. */
    public boolean timestepPerRow() {
        return timestepShape.length == 1 && timestepShape[0] != 1;
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
