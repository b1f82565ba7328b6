package dev.latentpipeline.model.builtin;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.latentpipeline.model.builtin.BuiltinModel.Precision;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.model.builtin.OrtCalls.Feed;
import dev.latentpipeline.model.builtin.SdxlRig.Conditioning;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.latentpipeline.model.builtin.BuiltinSdxlInferenceTest.assertColor;
import static dev.latentpipeline.model.builtin.OrtCalls.assertSignature;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The guidance-embedding (LCM-style) UNets: the colour depends on the guidance scale only through timestep_cond,
 * c' = 0.5 + g (c - 0.5) for diffusers' get_guidance_scale_embedding(g - 1, 256), and g counts as 0 (grey) when
 * the input is not such an embedding.
 */
class BuiltinGuidanceEmbeddingTest {
    private static final int DIM = 256;
    @TempDir
    static Path dir;
    private static SdxlRig sdxl;
    private static SdxlRig sdxlFp16;
    private static OrtSession sdUnet;

    @BeforeAll
    static void open() throws IOException, OrtException {
        BuiltinModel.writeTo(dir.resolve("xl"), Variant.SDXL.withGuidanceEmbedding().withLcmScheduler());
        BuiltinModel.writeTo(dir.resolve("xl16"),
                Variant.SDXL.withGuidanceEmbedding().withPrecision(Precision.FP16));
        BuiltinModel.writeTo(dir.resolve("sd"), Variant.STANDARD.withGuidanceEmbedding());
        sdxl = new SdxlRig(dir.resolve("xl"));
        sdxlFp16 = new SdxlRig(dir.resolve("xl16"));
        sdUnet = OrtCalls.open(dir.resolve("sd/unet/model.onnx"));
    }

    @AfterAll
    static void close() throws OrtException {
        if (sdxl != null) {
            sdxl.close();
            sdxlFp16.close();
            sdUnet.close();
        }
    }

    @Test
    void unetsDeclareTimestepCond() throws OrtException {
        Map<String, NodeInfo> xl = sdxl.unet.getInputInfo();
        assertEquals(List.of("sample", "timestep", "encoder_hidden_states", "timestep_cond", "text_embeds",
                "time_ids"), List.copyOf(xl.keySet()));
        assertSignature(xl, "timestep_cond", OnnxJavaType.FLOAT, new long[] {-1, DIM}, "batch_size");
        assertSignature(sdUnet.getInputInfo(), "timestep_cond", OnnxJavaType.FLOAT, new long[] {-1, DIM}, "batch");
        assertEquals(OnnxJavaType.FLOAT16,
                ((ai.onnxruntime.TensorInfo) sdxlFp16.unet.getInputInfo().get("timestep_cond").getInfo()).type);
    }

    @Test
    void sdxlColourFollowsTheEmbeddedGuidanceScale() throws OrtException {
        // "pink" (1, .75, .75) and "purple" (.5, 0, .5): text colour (.75, .375, .625); 64x64 image, original
        // (32, 64): tint (-.25, 0, 0).
        Conditioning c = sdxl.diffusers("pink", "purple");
        float[] ids = {32, 64, 0, 0, 64, 64};
        double[] text = {0.75, 0.375, 0.625};
        for (double g : new double[] {1, 1.5, 2, 4.5, 8, 15}) {
            double[] guided = SdxlClosedForm.guided(text, g);
            double[] want = {guided[0] - 0.25, guided[1], guided[2]};
            float[] embedding = SdxlClosedForm.guidanceEmbedding(g - 1, DIM);
            assertColor(want, colorOf(sdxl, c, ids, embedding), 1e-4 * Math.max(1, g), "g=" + g);
            assertColor(want, colorOf(sdxlFp16, sdxlFp16.diffusers("pink", "purple"), ids, embedding), 0.01,
                    "fp16 g=" + g);
        }
    }

    @Test
    void whatIsNotAGuidanceEmbeddingCountsAsScaleZero() throws OrtException {
        Conditioning c = sdxl.diffusers("pink", "purple");
        float[] ids = SdxlRig.defaultTimeIds(64, 64);
        double[] grey = {0.5, 0.5, 0.5};
        float[] right = SdxlClosedForm.guidanceEmbedding(7.5 - 1, DIM);
        float[] cosFirst = new float[DIM];
        System.arraycopy(right, DIM / 2, cosFirst, 0, DIM / 2);
        System.arraycopy(right, 0, cosFirst, DIM / 2, DIM / 2);
        float[] otherTable = new float[DIM];  // frequencies exp(-i ln(10000) / half) instead of / (half - 1)
        for (int i = 0; i < DIM / 2; i++) {
            double angle = 6500 * Math.exp(-i * Math.log(10000) / (DIM / 2));
            otherTable[i] = (float) Math.sin(angle);
            otherTable[DIM / 2 + i] = (float) Math.cos(angle);
        }
        Map<String, float[]> invalid = new LinkedHashMap<>();
        invalid.put("zeros", new float[DIM]);
        invalid.put("cos before sin", cosFirst);
        invalid.put("another frequency table", otherTable);
        for (Map.Entry<String, float[]> e : invalid.entrySet()) {
            assertColor(grey, colorOf(sdxl, c, ids, e.getValue()), 1e-4, e.getKey());
        }
    }

    @Test
    void wrongScalesGiveTheImageOfAnotherScale() throws OrtException {
        Conditioning c = sdxl.diffusers("pink", "purple");
        float[] ids = SdxlRig.defaultTimeIds(64, 64);
        double[] text = {0.75, 0.375, 0.625};
        // The embedding of g instead of g - 1 guides with g + 1; without the factor 1000 it barely guides at all.
        assertColor(SdxlClosedForm.guided(text, 5), colorOf(sdxl, c, ids, SdxlClosedForm.guidanceEmbedding(4, DIM)),
                1e-3, "embedding of g = 4 instead of g - 1 = 3");
        assertColor(SdxlClosedForm.guided(text, 1 + 0.004), colorOf(sdxl, c, ids,
                SdxlClosedForm.guidanceEmbedding(0.004, DIM)), 1e-3, "(g - 1) / 1000 for g = 5");
    }

    @Test
    void timestepCondIsRequired() {
        Map<String, Feed> feeds = new LinkedHashMap<>();
        feeds.put("sample", new Feed(new float[4], 1, 4, 1, 1));
        feeds.put("timestep", new Feed(new float[] {500}));
        feeds.put("encoder_hidden_states", new Feed(new float[77 * 80], 1, 77, 80));
        feeds.put("text_embeds", new Feed(new float[40], 1, 40));
        feeds.put("time_ids", new Feed(new float[] {8, 8, 0, 0, 8, 8}, 1, 6));
        assertThrows(OrtException.class, () -> OrtCalls.run(sdxl.unet, feeds));
    }

    @Test
    void sdUnetGuidesTheColourOfEncoderHiddenStates() throws OrtException {
        float[] states = new float[77 * 32];
        float[] orange = {1, 0.5f, 0};
        System.arraycopy(orange, 0, states, 0, 3);
        float[] sample = {0.1f, -0.3f, 0.7f, 0.2f};
        for (double g : new double[] {1, 3, 8.5}) {
            Map<String, Feed> feeds = new LinkedHashMap<>();
            feeds.put("sample", new Feed(sample, 1, 4, 1, 1));
            feeds.put("timestep", new Feed(new float[] {SdxlRig.PROBE_T}, 1));
            feeds.put("encoder_hidden_states", new Feed(states, 1, 77, 32));
            feeds.put("timestep_cond", new Feed(SdxlClosedForm.guidanceEmbedding(g - 1, DIM), 1, DIM));
            float[] eps = OrtCalls.output(OrtCalls.run(sdUnet, feeds), "out_sample", 1, 4, 1, 1);
            double sigma = TrainingSigmas.at(SdxlRig.PROBE_T);
            double[] x0 = new double[4];
            for (int k = 0; k < 4; k++) {
                x0[k] = sample[k] * Math.sqrt(1 + sigma * sigma) - sigma * eps[k];
            }
            // The SD UNet aims at 0.18215 E (2c - 1): rescale to the SDXL helper's 0.13025.
            double[] scaled = Arrays.stream(x0).map(v -> v * SdxlClosedForm.SCALING / 0.18215).toArray();
            assertColor(SdxlClosedForm.guided(new double[] {1, 0.5, 0}, g), SdxlClosedForm.colorOfLatent(scaled),
                    1e-4 * g, "g=" + g);
        }
    }

    private static double[] colorOf(SdxlRig r, Conditioning c, float[] ids, float[] embedding) throws OrtException {
        return r.targetColors(List.of(c), List.of(ids), 64, 64, embedding, 0)[0];
    }
}
