package dev.latentpipeline.model.builtin;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.latentpipeline.model.builtin.BuiltinModel.Precision;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.model.builtin.OrtCalls.Feed;
import dev.latentpipeline.model.builtin.OrtCalls.Output;
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
import java.util.Random;

import static dev.latentpipeline.model.builtin.OrtCalls.assertSignature;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs the SDXL form's ONNX files in ONNX Runtime and checks them against the README's closed form. */
class BuiltinSdxlInferenceTest {
    private static final long[] BATCH_SEQUENCE = {-1, -1};

    @TempDir
    static Path dir;
    private static SdxlRig rig;

    @BeforeAll
    static void open() throws IOException, OrtException {
        BuiltinModel.writeTo(dir.resolve("fp32"), Variant.SDXL);
        rig = new SdxlRig(dir.resolve("fp32"));
    }

    @AfterAll
    static void close() throws OrtException {
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void declaresOptimumsNamesDtypesAndShapes() throws OrtException {
        Map<String, NodeInfo> in1 = rig.textEncoder.getInputInfo();
        assertSignature(in1, "input_ids", OnnxJavaType.INT32, BATCH_SEQUENCE, "batch_size", "sequence_length");
        Map<String, NodeInfo> out1 = rig.textEncoder.getOutputInfo();
        assertEquals(List.of("last_hidden_state", "pooler_output", "hidden_states.0", "hidden_states.1",
                "hidden_states.2"), List.copyOf(out1.keySet()));
        assertSignature(out1, "pooler_output", OnnxJavaType.FLOAT, new long[] {-1, 32}, "batch_size");
        for (String name : List.of("last_hidden_state", "hidden_states.0", "hidden_states.2")) {
            assertSignature(out1, name, OnnxJavaType.FLOAT, new long[] {-1, -1, 32}, "batch_size", "sequence_length");
        }

        Map<String, NodeInfo> in2 = rig.textEncoder2.getInputInfo();
        assertSignature(in2, "input_ids", OnnxJavaType.INT64, BATCH_SEQUENCE, "batch_size", "sequence_length");
        Map<String, NodeInfo> out2 = rig.textEncoder2.getOutputInfo();
        // text_embeds first: diffusers takes prompt_embeds[0] as the pooled embedding when it is 2-D.
        assertEquals(List.of("text_embeds", "last_hidden_state", "hidden_states.0", "hidden_states.1",
                "hidden_states.2", "hidden_states.3"), List.copyOf(out2.keySet()));
        // The file names text_embeds' dim 1 "sequence_length" as optimum does; ONNX Runtime infers 40 for it.
        assertSignature(out2, "text_embeds", OnnxJavaType.FLOAT, new long[] {-1, 40}, "batch_size");
        assertSignature(out2, "hidden_states.3", OnnxJavaType.FLOAT, new long[] {-1, -1, 48},
                "batch_size", "sequence_length");

        Map<String, NodeInfo> unet = rig.unet.getInputInfo();
        assertEquals(List.of("sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"),
                List.copyOf(unet.keySet()));
        assertSignature(unet, "sample", OnnxJavaType.FLOAT, new long[] {-1, 4, -1, -1}, "batch_size", "height",
                "width");
        assertSignature(unet, "timestep", OnnxJavaType.FLOAT, new long[0]);
        assertSignature(unet, "encoder_hidden_states", OnnxJavaType.FLOAT, new long[] {-1, -1, 80}, "batch_size",
                "sequence_length");
        assertSignature(unet, "text_embeds", OnnxJavaType.FLOAT, new long[] {-1, 40}, "batch_size");
        assertSignature(unet, "time_ids", OnnxJavaType.FLOAT, new long[] {-1, 6}, "batch_size");
        assertSignature(rig.unet.getOutputInfo(), "out_sample", OnnxJavaType.FLOAT, new long[] {-1, 4, -1, -1},
                "batch_size", "height", "width");
        assertSignature(rig.vaeEncoder.getOutputInfo(), "latent_parameters", OnnxJavaType.FLOAT,
                new long[] {-1, 8, -1, -1}, "batch", "latent_height", "latent_width");
        assertSignature(rig.vaeDecoder.getInputInfo(), "latent_sample", OnnxJavaType.FLOAT,
                new long[] {-1, 4, -1, -1}, "batch", "latent_height", "latent_width");
    }

    @Test
    void encodersCarryThePromptColourAndMarkOnlyThePenultimateLayer() throws OrtException {
        Map<String, float[]> expected = new LinkedHashMap<>();
        expected.put("a red apple", new float[] {1, 0, 0});
        expected.put("Orange and PURPLE", new float[] {0.75f, 0.25f, 0.25f});
        expected.put("a cat!", new float[] {0.5f, 0.5f, 0.5f});
        expected.put("", new float[] {0.5f, 0.5f, 0.5f});
        expected.put("black, black, white", new float[] {1 / 3f, 1 / 3f, 1 / 3f});
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            String what = "'" + e.getKey() + "'";
            float[] c = e.getValue();
            SdxlRig.Encoded out = rig.encode(e.getKey(), e.getKey());
            // text_encoder: (r, g, b) in 0-2; feature 3 is 1 in hidden_states.1 only.
            float[] plain1 = features(32, Map.of(0, c[0], 1, c[1], 2, c[2]));
            float[] marked1 = features(32, Map.of(0, c[0], 1, c[1], 2, c[2], 3, 1f));
            assertEveryPosition(plain1, out.first().get("hidden_states.0").data(), what + " te1 layer 0");
            assertEveryPosition(marked1, out.first().get("hidden_states.1").data(), what + " te1 layer 1");
            assertEveryPosition(plain1, out.first().get("hidden_states.2").data(), what + " te1 layer 2");
            assertEveryPosition(plain1, out.first().get("last_hidden_state").data(), what + " te1 last");
            assertClose(plain1, out.first().get("pooler_output").data(), what + " te1 pooler_output");
            // text_encoder_2: (b, r, g) in 0-2; feature 4 is 1 in hidden_states.2 only.
            float[] plain2 = features(48, Map.of(0, c[2], 1, c[0], 2, c[1]));
            float[] marked2 = features(48, Map.of(0, c[2], 1, c[0], 2, c[1], 4, 1f));
            for (String layer : List.of("hidden_states.0", "hidden_states.1", "hidden_states.3", "last_hidden_state")) {
                assertEveryPosition(plain2, out.second().get(layer).data(), what + " te2 " + layer);
            }
            assertEveryPosition(marked2, out.second().get("hidden_states.2").data(), what + " te2 layer 2");
            assertClose(features(40, Map.of(0, c[0], 1, c[1], 2, c[2], 3, 1f)),
                    OrtCalls.output(out.second(), "text_embeds", 1, 40), what + " text_embeds");
        }
    }

    @Test
    void encodersTakeAnySequenceLengthAndBatch() throws OrtException {
        int red = rig.bpe.vocab.get("red</w>");
        int blue = rig.bpe.vocab.get("blue</w>");
        int[] ids = {558, red, 559, 558, blue, 0};  // batch 2, length 3
        Map<String, Output> out = OrtCalls.run(rig.textEncoder, Map.of("input_ids", new Feed(ids, 2, 3)));
        float[] states = OrtCalls.output(out, "hidden_states.1", 2, 3, 32);
        assertEquals(1f, states[0]);
        assertEquals(1f, states[3 * 32 + 2]);
        long[] longIds = {558, blue, 559};
        Map<String, Output> out2 = OrtCalls.run(rig.textEncoder2, Map.of("input_ids", new Feed(longIds, 1, 3)));
        assertEquals(1f, OrtCalls.output(out2, "hidden_states.2", 1, 3, 48)[0], "b first");
    }

    @Test
    void unetPredictsTheClosedFormForAnyConditioning() throws OrtException {
        Random random = new Random(23);
        int batch = 3;
        int h = 3;
        int w = 5;
        float[] sample = gaussian(random, batch * 4 * h * w);
        float[] hidden = gaussian(random, batch * 77 * 80);
        float[] pooled = gaussian(random, batch * 40);
        float[] ids = new float[batch * 6];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 8 + random.nextInt(64);
        }
        Map<String, Feed> feeds = new LinkedHashMap<>();
        feeds.put("sample", new Feed(sample, batch, 4, h, w));
        feeds.put("encoder_hidden_states", new Feed(hidden, batch, 77, 80));
        feeds.put("text_embeds", new Feed(pooled, batch, 40));
        feeds.put("time_ids", new Feed(ids, batch, 6));
        for (float t : new float[] {999, 500, 250.5f, 1, 0.25f, 1200, -3}) {
            feeds.put("timestep", new Feed(new float[] {t}));
            float[] eps = OrtCalls.output(OrtCalls.run(rig.unet, feeds), "out_sample", batch, 4, h, w);
            double sigma = TrainingSigmas.at(t);
            for (int b = 0; b < batch; b++) {
                float[] e0 = Arrays.copyOfRange(hidden, b * 77 * 80, b * 77 * 80 + 80);
                float[] q = Arrays.copyOfRange(pooled, b * 40, b * 40 + 40);
                float[] timeIds = Arrays.copyOfRange(ids, b * 6, b * 6 + 6);
                double[] x0 = SdxlClosedForm.targetLatent(
                        SdxlClosedForm.withTimeIds(SdxlClosedForm.textColor(e0, q), timeIds, 8 * h, 8 * w));
                for (int c = 0; c < 4; c++) {
                    for (int i = 0; i < h * w; i++) {
                        int at = (b * 4 + c) * h * w + i;
                        double want = (sample[at] * Math.sqrt(1 + sigma * sigma) - x0[c]) / sigma;
                        if (Math.abs(eps[at] - want) > 1e-4 * Math.max(1, Math.abs(want))) {
                            fail("t=" + t + " item " + b + " channel " + c + ": got " + eps[at] + ", want " + want);
                        }
                    }
                }
            }
        }
    }

    @Test
    void theRightConditioningAimsAtTheRequestsColour() throws OrtException {
        // orange (1, .5, 0) and purple (.5, 0, .5): text colour (.75, .25, .25); 64x96 image, original (48, 64),
        // crop (8, 16), target (64, 96): brightness 1, tint .5 (48/64 - 1, 64/96 - 1, 8/64 + 16/96).
        double[] want = {0.75 - 0.125, 0.25 - 1 / 6.0, 0.25 + 0.0625 + 1 / 12.0};
        double[] got = rig.targetColor(rig.diffusers("orange", "purple"), new float[] {48, 64, 8, 16, 64, 96}, 64, 96);
        assertColor(want, got, 1e-4, "right conditioning");
        // Defaults: the mean of both prompts' colours.
        assertColor(new double[] {0.75, 0.25, 0.25},
                rig.targetColor(rig.diffusers("orange", "purple"), SdxlRig.defaultTimeIds(64, 96), 64, 96), 1e-4,
                "default time ids");
        assertColor(new double[] {0.25, 0.25, 0.25},
                rig.targetColor(Conditioning.zeros(), SdxlRig.defaultTimeIds(64, 96), 64, 96), 1e-4,
                "all-zero conditioning");
    }

    @Test
    void eachConditioningMistakeAimsAtADocumentedWrongColour() throws OrtException {
        SdxlRig.Encoded e = rig.encode("orange", "purple");
        float[] te1Penultimate = e.first().get("hidden_states.1").data();
        float[] te2Penultimate = e.second().get("hidden_states.2").data();
        float[] pooled = e.second().get("text_embeds").data();
        float[] ids = {48, 64, 8, 16, 64, 96};
        Conditioning right = SdxlRig.concat(te1Penultimate, te2Penultimate, pooled);
        double[] rightColor = rig.targetColor(right, ids, 64, 96);

        Map<String, Conditioning> wrongConditioning = new LinkedHashMap<>();
        wrongConditioning.put("text_encoder_2 first", SdxlRig.concat(te2Penultimate, te1Penultimate, pooled));
        wrongConditioning.put("text_encoder's last layer",
                SdxlRig.concat(e.first().get("hidden_states.2").data(), te2Penultimate, pooled));
        wrongConditioning.put("text_encoder's last_hidden_state",
                SdxlRig.concat(e.first().get("last_hidden_state").data(), te2Penultimate, pooled));
        wrongConditioning.put("text_encoder_2's last layer",
                SdxlRig.concat(te1Penultimate, e.second().get("hidden_states.3").data(), pooled));
        wrongConditioning.put("zero text_embeds", SdxlRig.concat(te1Penultimate, te2Penultimate, new float[40]));
        SdxlRig.Encoded samePrompt = rig.encode("orange", "orange");
        wrongConditioning.put("prompt instead of prompt_2", SdxlRig.concat(te1Penultimate,
                samePrompt.second().get("hidden_states.2").data(), samePrompt.second().get("text_embeds").data()));
        for (Map.Entry<String, Conditioning> m : wrongConditioning.entrySet()) {
            Conditioning c = m.getValue();
            double[] documented = SdxlClosedForm.withTimeIds(SdxlClosedForm.textColor(
                    Arrays.copyOf(c.hidden(), 80), c.pooled()), ids, 64, 96);
            assertWrong(m.getKey(), rightColor, documented, rig.targetColor(c, ids, 64, 96));
        }

        Map<String, float[]> wrongTimeIds = new LinkedHashMap<>();
        wrongTimeIds.put("zero time_ids", new float[6]);
        wrongTimeIds.put("original and target swapped", new float[] {64, 96, 8, 16, 48, 64});
        wrongTimeIds.put("crop ignored", new float[] {48, 64, 0, 0, 64, 96});
        wrongTimeIds.put("(width, height) order", new float[] {64, 48, 16, 8, 96, 64});
        for (Map.Entry<String, float[]> m : wrongTimeIds.entrySet()) {
            double[] documented = SdxlClosedForm.withTimeIds(
                    SdxlClosedForm.textColor(Arrays.copyOf(right.hidden(), 80), pooled), m.getValue(), 64, 96);
            assertWrong(m.getKey(), rightColor, documented, rig.targetColor(right, m.getValue(), 64, 96));
        }
    }

    @Test
    void theUnetNeedsTextEmbedsAndTimeIds() {
        Map<String, Feed> feeds = new LinkedHashMap<>();
        feeds.put("sample", new Feed(new float[4], 1, 4, 1, 1));
        feeds.put("timestep", new Feed(new float[] {500}));
        feeds.put("encoder_hidden_states", new Feed(new float[77 * 80], 1, 77, 80));
        feeds.put("text_embeds", new Feed(new float[40], 1, 40));
        Map<String, Feed> noTimeIds = new LinkedHashMap<>(feeds);
        assertThrows(OrtException.class, () -> OrtCalls.run(rig.unet, noTimeIds));
        feeds.remove("text_embeds");
        feeds.put("time_ids", new Feed(new float[] {8, 8, 0, 0, 8, 8}, 1, 6));
        assertThrows(OrtException.class, () -> OrtCalls.run(rig.unet, feeds));
        // text_encoder's pooler_output (32 wide) cannot stand in for text_embeds (40).
        feeds.put("text_embeds", new Feed(new float[32], 1, 32));
        assertThrows(OrtException.class, () -> OrtCalls.run(rig.unet, feeds));
    }

    @Test
    void eulerWithGuidanceAgainstAbsentNegativeEndsOnTheDocumentedImage() throws OrtException {
        // force_zeros_for_empty_prompt: zero negative embeddings (colour .25 grey); prompt "orange", g = 2:
        // .25 + 2 (orange - .25) = (1.75, .75, -.25) before the PNG clamps it.
        double guidance = 2;
        int height = 16;
        int width = 24;
        int h = height / 8;
        int w = width / 8;
        int n = 4 * h * w;
        Conditioning orange = rig.diffusers("orange", "orange");
        float[] hidden = new float[2 * 77 * 80];  // item 0: the zero negative conditioning
        float[] pooled = new float[2 * 40];
        System.arraycopy(orange.hidden(), 0, hidden, 77 * 80, 77 * 80);
        System.arraycopy(orange.pooled(), 0, pooled, 40, 40);
        float[] ids = new float[12];
        System.arraycopy(SdxlRig.defaultTimeIds(height, width), 0, ids, 0, 6);
        System.arraycopy(SdxlRig.defaultTimeIds(height, width), 0, ids, 6, 6);
        int steps = 6;
        double[] t = new double[steps];
        double[] sigma = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
            t[i] = 999.0 * (steps - 1 - i) / (steps - 1);
            sigma[i] = TrainingSigmas.at(t[i]);
        }
        Random random = new Random(4);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = random.nextGaussian() * sigma[0];
        }
        for (int i = 0; i < steps; i++) {
            float[] input = new float[2 * n];
            for (int j = 0; j < n; j++) {
                input[j] = (float) (x[j] / Math.sqrt(sigma[i] * sigma[i] + 1));
                input[n + j] = input[j];
            }
            Map<String, Feed> feeds = new LinkedHashMap<>();
            feeds.put("sample", new Feed(input, 2, 4, h, w));
            feeds.put("timestep", new Feed(new float[] {(float) t[i]}));
            feeds.put("encoder_hidden_states", new Feed(hidden, 2, 77, 80));
            feeds.put("text_embeds", new Feed(pooled, 2, 40));
            feeds.put("time_ids", new Feed(ids, 2, 6));
            float[] eps = OrtCalls.output(OrtCalls.run(rig.unet, feeds), "out_sample", 2, 4, h, w);
            for (int j = 0; j < n; j++) {
                x[j] += (sigma[i + 1] - sigma[i]) * (eps[j] + guidance * (eps[n + j] - eps[j]));
            }
        }
        float[] latent = new float[n];
        for (int j = 0; j < n; j++) {
            latent[j] = (float) (x[j] / SdxlClosedForm.SCALING);
        }
        float[] image = OrtCalls.output(OrtCalls.run(rig.vaeDecoder, Map.of("latent_sample",
                new Feed(latent, 1, 4, h, w))), "sample", 1, 3, height, width);
        double[] want = {1.75, 0.75, -0.25};
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < height * width; i++) {
                assertEquals(want[c], image[c * height * width + i] / 2 + 0.5, 1e-3, "channel " + c);
            }
        }
    }

    @Test
    void vPredictionVariantPredictsVelocity(@TempDir Path out) throws IOException, OrtException {
        BuiltinModel.writeTo(out, Variant.SDXL.withVPrediction());
        Random random = new Random(5);
        Map<String, Feed> feeds = new LinkedHashMap<>();
        float[] sample = gaussian(random, 4 * 2 * 2);
        feeds.put("sample", new Feed(sample, 1, 4, 2, 2));
        Conditioning c = rig.diffusers("pink", "cyan");
        feeds.put("encoder_hidden_states", new Feed(c.hidden(), 1, 77, 80));
        feeds.put("text_embeds", new Feed(c.pooled(), 1, 40));
        float[] ids = SdxlRig.defaultTimeIds(16, 16);
        feeds.put("time_ids", new Feed(ids, 1, 6));
        double[] x0 = SdxlClosedForm.targetLatent(SdxlClosedForm.withTimeIds(
                SdxlClosedForm.textColor(Arrays.copyOf(c.hidden(), 80), c.pooled()), ids, 16, 16));
        try (OrtSession vUnet = OrtCalls.open(out.resolve("unet/model.onnx"))) {
            for (float t : new float[] {900, 301.5f, 2}) {
                feeds.put("timestep", new Feed(new float[] {t}));
                float[] v = OrtCalls.output(OrtCalls.run(vUnet, feeds), "out_sample", 1, 4, 2, 2);
                double sigma = TrainingSigmas.at(t);
                for (int i = 0; i < v.length; i++) {
                    double eps = (sample[i] * Math.sqrt(1 + sigma * sigma) - x0[i / 4]) / sigma;
                    double want = (eps - sigma * x0[i / 4]) / Math.sqrt(1 + sigma * sigma);
                    assertEquals(want, v[i], 1e-4 * Math.max(1, Math.abs(want)), "t=" + t);
                }
            }
        }
    }

    @Test
    void fp16VariantsMatchFp32WithinFp16Rounding() throws IOException, OrtException {
        BuiltinModel.writeTo(dir.resolve("fp16"), Variant.SDXL.withPrecision(Precision.FP16));
        BuiltinModel.writeTo(dir.resolve("mixed"), Variant.SDXL.withPrecision(Precision.FP16_WITH_FP32_VAE));
        try (SdxlRig fp16 = new SdxlRig(dir.resolve("fp16")); SdxlRig mixed = new SdxlRig(dir.resolve("mixed"))) {
            for (SdxlRig r : List.of(fp16, mixed)) {
                assertEquals(OnnxJavaType.FLOAT16, type(r.unet.getInputInfo(), "encoder_hidden_states"));
                assertEquals(OnnxJavaType.FLOAT16, type(r.unet.getInputInfo(), "time_ids"));
                assertEquals(OnnxJavaType.FLOAT16, type(r.textEncoder2.getOutputInfo(), "text_embeds"));
                assertEquals(OnnxJavaType.INT64, type(r.textEncoder2.getInputInfo(), "input_ids"));
            }
            assertEquals(OnnxJavaType.FLOAT16, type(fp16.vaeDecoder.getInputInfo(), "latent_sample"));
            assertEquals(OnnxJavaType.FLOAT, type(mixed.vaeDecoder.getInputInfo(), "latent_sample"));
            assertEquals(OnnxJavaType.FLOAT, type(mixed.vaeEncoder.getOutputInfo(), "latent_parameters"));

            float[] ids = {40, 56, 8, 0, 64, 64};
            double[] want = rig.targetColor(rig.diffusers("pink", "purple"), ids, 64, 64);
            double[] got = fp16.targetColor(fp16.diffusers("pink", "purple"), ids, 64, 64);
            // fp16 rounds eps and the sample (relative 2^-11), so x0 = x s - sigma eps is good to a few 1e-3.
            assertColor(want, got, 5e-3, "fp16 UNet and encoders");
            float[] latent = {0.3f, -0.2f, 0.5f, 0.1f};
            float[] a = OrtCalls.output(OrtCalls.run(rig.vaeDecoder, Map.of("latent_sample",
                    new Feed(latent, 1, 4, 1, 1))), "sample", 1, 3, 8, 8);
            float[] b = OrtCalls.output(OrtCalls.run(fp16.vaeDecoder, Map.of("latent_sample",
                    new Feed(latent, 1, 4, 1, 1))), "sample", 1, 3, 8, 8);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-3);
            }
        }
    }

    // --- helpers ---

    private static void assertWrong(String mistake, double[] right, double[] documented, double[] got) {
        assertColor(documented, got, 1e-4, mistake + " (documented wrong colour)");
        double largest = 0;
        for (int c = 0; c < 3; c++) {
            largest = Math.max(largest, Math.abs(got[c] - right[c]));
        }
        assertTrue(largest >= 0.1, mistake + ": " + Arrays.toString(got) + " is too close to the right "
                + Arrays.toString(right));
    }

    static void assertColor(double[] want, double[] got, double tolerance, String what) {
        for (int c = 0; c < 3; c++) {
            assertEquals(want[c], got[c], tolerance, what + " channel " + c + ": got " + Arrays.toString(got));
        }
    }

    private static OnnxJavaType type(Map<String, NodeInfo> infos, String name) {
        return ((ai.onnxruntime.TensorInfo) infos.get(name).getInfo()).type;
    }

    private static float[] features(int width, Map<Integer, Float> set) {
        float[] v = new float[width];
        set.forEach((i, x) -> v[i] = x);
        return v;
    }

    private static void assertEveryPosition(float[] want, float[] states, String what) {
        assertEquals(0, states.length % want.length, what);
        for (int p = 0; p < states.length / want.length; p++) {
            assertClose(want, Arrays.copyOfRange(states, p * want.length, (p + 1) * want.length), what + " pos " + p);
        }
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-6, what + " feature " + i);
        }
    }

    private static float[] gaussian(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}
