package dev.latentpipeline.model.builtin;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs each generated ONNX file with ONNX Runtime and checks its numbers against the documented behaviour. */
class BuiltinModelInferenceTest {
    private static final int HIDDEN = 32;
    private static final double SCALING = 0.18215;

    @TempDir
    static Path dir;
    private static OrtEnvironment env;
    private static OrtSession textEncoder;
    private static OrtSession unet;
    private static OrtSession vaeDecoder;
    private static OrtSession vaeEncoder;
    private static ClipBpe bpe;

    @BeforeAll
    static void open() throws IOException, OrtException {
        BuiltinModel.writeTo(dir);
        env = OrtEnvironment.getEnvironment();
        textEncoder = env.createSession(dir.resolve("text_encoder/model.onnx").toString());
        unet = env.createSession(dir.resolve("unet/model.onnx").toString());
        vaeDecoder = env.createSession(dir.resolve("vae_decoder/model.onnx").toString());
        vaeEncoder = env.createSession(dir.resolve("vae_encoder/model.onnx").toString());
        bpe = new ClipBpe(dir.resolve("tokenizer"));
    }

    @AfterAll
    static void close() throws OrtException {
        for (OrtSession s : new OrtSession[] {textEncoder, unet, vaeDecoder, vaeEncoder}) {
            if (s != null) {
                s.close();
            }
        }
    }

    @Test
    void declaresTheStandardInputsAndOutputs() throws OrtException {
        assertSignature(textEncoder.getInputInfo(), "input_ids", OnnxJavaType.INT32, -1, 77);
        assertSignature(textEncoder.getOutputInfo(), "last_hidden_state", OnnxJavaType.FLOAT, -1, 77, HIDDEN);
        assertSignature(textEncoder.getOutputInfo(), "pooler_output", OnnxJavaType.FLOAT, -1, HIDDEN);
        assertSignature(unet.getInputInfo(), "sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);
        assertSignature(unet.getInputInfo(), "timestep", OnnxJavaType.FLOAT, -1);
        assertSignature(unet.getInputInfo(), "encoder_hidden_states", OnnxJavaType.FLOAT, -1, 77, HIDDEN);
        assertSignature(unet.getOutputInfo(), "out_sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);
        assertSignature(vaeDecoder.getInputInfo(), "latent_sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);
        assertSignature(vaeDecoder.getOutputInfo(), "sample", OnnxJavaType.FLOAT, -1, 3, -1, -1);
        assertSignature(vaeEncoder.getInputInfo(), "sample", OnnxJavaType.FLOAT, -1, 3, -1, -1);
        assertSignature(vaeEncoder.getOutputInfo(), "latent_sample", OnnxJavaType.FLOAT, -1, 4, -1, -1);
        assertEquals(3, unet.getInputInfo().size());
        assertEquals(1, textEncoder.getInputInfo().size());
    }

    @Test
    void textEncoderPutsTheMeanColourOfColourWordsInEveryPosition() throws OrtException {
        int bos = bpe.vocab.get("<|startoftext|>");
        int eos = bpe.vocab.get("<|endoftext|>");
        int[] handMade = new int[77];
        Arrays.fill(handMade, eos);
        handMade[0] = bos;
        handMade[1] = bpe.vocab.get("red</w>");

        Map<String, float[]> expected = new LinkedHashMap<>();
        expected.put("a red apple", new float[] {1, 0, 0});
        expected.put("red and white", new float[] {1, 0.5f, 0.5f});
        expected.put("a photo of a cat", new float[] {0.5f, 0.5f, 0.5f});
        expected.put("", new float[] {0.5f, 0.5f, 0.5f});
        expected.put("red red blue", new float[] {2 / 3f, 0, 1 / 3f});
        expected.put("Grey GREEN", new float[] {0.25f, 0.75f, 0.25f});
        expected.put("reddish bluer", new float[] {0.5f, 0.5f, 0.5f});
        expected.put("black", new float[] {0, 0, 0});
        expected.put("yellow, orange and pink", new float[] {1, 0.75f, 0.25f});

        List<String> prompts = List.copyOf(expected.keySet());
        int batch = prompts.size() + 1;
        int[] ids = new int[batch * 77];
        System.arraycopy(handMade, 0, ids, 0, 77);
        for (int b = 1; b < batch; b++) {
            System.arraycopy(bpe.inputIds(prompts.get(b - 1)), 0, ids, b * 77, 77);
        }
        try (OnnxTensor input = OnnxTensor.createTensor(env, IntBuffer.wrap(ids), new long[] {batch, 77});
             OrtSession.Result out = textEncoder.run(Map.of("input_ids", input))) {
            float[] hidden = floats(out, "last_hidden_state", batch, 77, HIDDEN);
            float[] pooled = floats(out, "pooler_output", batch, HIDDEN);
            for (int b = 0; b < batch; b++) {
                float[] rgb = b == 0 ? new float[] {1, 0, 0} : expected.get(prompts.get(b - 1));
                String what = b == 0 ? "hand-made red" : "'" + prompts.get(b - 1) + "'";
                for (int f = 0; f < HIDDEN; f++) {
                    float want = f < 3 ? rgb[f] : 0;
                    assertEquals(want, pooled[b * HIDDEN + f], 1e-6, what + " pooler feature " + f);
                    for (int p = 0; p < 77; p++) {
                        assertEquals(want, hidden[(b * 77 + p) * HIDDEN + f], 1e-6, what + " position " + p);
                    }
                }
            }
        }
    }

    @Test
    void unetPredictsTheExactNoiseTowardsTheColourLatent() throws OrtException {
        Random random = new Random(7);
        int batch = 2;
        int h = 3;
        int w = 5;
        float[] sample = new float[batch * 4 * h * w];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = (float) random.nextGaussian();
        }
        // Item 0 red, item 1 pink; only encoder_hidden_states[:, 0, 0:3] may matter, so the rest is noise.
        float[][] colours = {{1, 0, 0}, {1, 0.75f, 0.75f}};
        float[] states = new float[batch * 77 * HIDDEN];
        for (int i = 0; i < states.length; i++) {
            states[i] = (float) random.nextGaussian();
        }
        for (int b = 0; b < batch; b++) {
            System.arraycopy(colours[b], 0, states, b * 77 * HIDDEN, 3);
        }
        double[][] x0 = new double[batch][];
        for (int b = 0; b < batch; b++) {
            x0[b] = scaledLatent(colours[b]);
        }

        float[][] timestepInputs = {
            {999}, {500}, {1}, {0}, {250.5f}, {0.25f}, {1200}, {-3},
            {999, 0.25f}, {250.5f, 1}, {0, 998.75f},
        };
        for (float[] t : timestepInputs) {
            float[] eps = runUnet(sample, batch, h, w, t, states);
            for (int b = 0; b < batch; b++) {
                double sigma = TrainingSigmas.at(t.length == 1 ? t[0] : t[b]);
                for (int c = 0; c < 4; c++) {
                    for (int i = 0; i < h * w; i++) {
                        int at = (b * 4 + c) * h * w + i;
                        double want = (sample[at] * Math.sqrt(1 + sigma * sigma) - x0[b][c]) / sigma;
                        double tolerance = 1e-4 * Math.max(1, Math.abs(want));
                        if (Math.abs(eps[at] - want) > tolerance) {
                            fail("t=" + Arrays.toString(t) + " item " + b + " channel " + c + ": got " + eps[at]
                                    + ", want " + want);
                        }
                    }
                }
            }
        }
    }

    @Test
    void unetNoiseRemovalLandsOnTheColourLatent() throws OrtException {
        // x0 = (x - sqrt(1 - abar) eps) / sqrt(abar): what a DDIM step with eta 0 to t = -1 computes.
        float[] colour = {0, 0, 1};
        float[] states = new float[77 * HIDDEN];
        System.arraycopy(colour, 0, states, 0, 3);
        float[] sample = new float[4 * 8 * 8];
        Random random = new Random(3);
        for (int i = 0; i < sample.length; i++) {
            sample[i] = (float) (10 * random.nextGaussian());
        }
        double sigma = TrainingSigmas.at(801);
        double alphaBar = 1 / (1 + sigma * sigma);
        float[] eps = runUnet(sample, 1, 8, 8, new float[] {801}, states);
        double[] x0 = scaledLatent(colour);
        for (int i = 0; i < sample.length; i++) {
            double denoised = (sample[i] - Math.sqrt(1 - alphaBar) * eps[i]) / Math.sqrt(alphaBar);
            assertEquals(x0[i / 64], denoised, 1e-4);
        }
    }

    @Test
    void eulerSamplingWithGuidanceEndsOnTheDocumentedImage() throws OrtException {
        // Euler (sigma schedule ending at 0, fractional timesteps) with classifier-free guidance 7.5: the image must be
        // c_uncond + g (c_cond - c_uncond) per channel before clamping (README); uncond "" is grey, cond is pink.
        int h = 2;
        int w = 3;
        int n = 4 * h * w;
        float guidance = 7.5f;
        float[] states = new float[2 * 77 * HIDDEN];
        float[] grey = {0.5f, 0.5f, 0.5f};
        float[] pink = {1, 0.75f, 0.75f};
        System.arraycopy(grey, 0, states, 0, 3);
        System.arraycopy(pink, 0, states, 77 * HIDDEN, 3);
        int steps = 7;
        double[] t = new double[steps];
        double[] sigma = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
            t[i] = 999.0 * (steps - 1 - i) / (steps - 1);  // 999, 832.5, ..., 0
            sigma[i] = TrainingSigmas.at(t[i]);
        }
        Random random = new Random(1);
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
            float[] eps = runUnet(input, 2, h, w, new float[] {(float) t[i]}, states);
            for (int j = 0; j < n; j++) {
                double guided = eps[j] + guidance * (eps[n + j] - eps[j]);
                x[j] += (sigma[i + 1] - sigma[i]) * guided;
            }
        }
        float[] latent = new float[n];
        for (int j = 0; j < n; j++) {
            latent[j] = (float) (x[j] / SCALING);
        }
        float[] image = runVae(vaeDecoder, "latent_sample", latent, new long[] {1, 4, h, w}, "sample",
                new long[] {1, 3, 8 * h, 8 * w});
        for (int c = 0; c < 3; c++) {
            double want = grey[c] + guidance * (pink[c] - grey[c]);
            for (int i = 0; i < 64 * h * w; i++) {
                assertEquals(want, image[c * 64 * h * w + i] / 2 + 0.5, 1e-3, "channel " + c);
            }
        }
    }

    @Test
    void encodeAndDecodeMatricesAreInverse() {
        float[][] e = BuiltinModel.latentFromPixel();
        float[][] d = BuiltinModel.pixelFromLatent();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double sum = 0;
                for (int k = 0; k < 4; k++) {
                    sum += d[i][k] * e[k][j];
                }
                assertEquals(i == j ? 1 : 0, sum, 0, "(D E)[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void vaeDecoderMixesWithDAndUpsamplesByEight() throws OrtException {
        float[][] e = BuiltinModel.latentFromPixel();
        float[][] d = BuiltinModel.pixelFromLatent();
        int h = 3;
        int w = 5;
        // Item 0: the constant latent E v for v = red as a pixel; item 1: random latents.
        float[] v = {1, -1, -1};
        float[] latent = new float[2 * 4 * h * w];
        Random random = new Random(11);
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < h * w; i++) {
                latent[c * h * w + i] = e[c][0] * v[0] + e[c][1] * v[1] + e[c][2] * v[2];
                latent[(4 + c) * h * w + i] = (float) random.nextGaussian();
            }
        }
        float[] image = runVae(vaeDecoder, "latent_sample", latent, new long[] {2, 4, h, w}, "sample",
                new long[] {2, 3, 8 * h, 8 * w});
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 8 * h; y++) {
                    for (int x = 0; x < 8 * w; x++) {
                        double want = 0;
                        for (int k = 0; k < 4; k++) {
                            want += d[c][k] * latent[((b * 4 + k) * h + y / 8) * w + x / 8];
                        }
                        if (b == 0) {
                            assertEquals(v[c], want, 1e-6, "D E must be the identity");
                        }
                        assertEquals(want, image[((b * 3 + c) * 8 * h + y) * 8 * w + x], 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void vaeEncoderAveragesBlocksAndMixesWithE() throws OrtException {
        float[][] e = BuiltinModel.latentFromPixel();
        int bh = 2;
        int bw = 3;
        int height = 8 * bh;
        int width = 8 * bw;
        Random random = new Random(5);
        float[] smooth = new float[2 * 3 * height * width];  // constant on each 8x8 block
        float[] rough = new float[smooth.length];            // anything
        for (int i = 0; i < smooth.length; i++) {
            rough[i] = (float) random.nextGaussian();
        }
        float[] blocks = new float[2 * 3 * bh * bw];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = 2 * random.nextFloat() - 1;
        }
        for (int bc = 0; bc < 6; bc++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    smooth[(bc * height + y) * width + x] = blocks[(bc * bh + y / 8) * bw + x / 8];
                }
            }
        }
        long[] imageShape = {2, 3, height, width};
        long[] latentShape = {2, 4, bh, bw};
        for (float[] image : new float[][] {smooth, rough}) {
            float[] latent = runVae(vaeEncoder, "sample", image, imageShape, "latent_sample", latentShape);
            for (int b = 0; b < 2; b++) {
                for (int by = 0; by < bh; by++) {
                    for (int bx = 0; bx < bw; bx++) {
                        for (int k = 0; k < 4; k++) {
                            double want = 0;
                            for (int c = 0; c < 3; c++) {
                                double mean = 0;
                                for (int y = 8 * by; y < 8 * by + 8; y++) {
                                    for (int x = 8 * bx; x < 8 * bx + 8; x++) {
                                        mean += image[((b * 3 + c) * height + y) * width + x] / 64;
                                    }
                                }
                                want += e[k][c] * mean;
                            }
                            assertEquals(want, latent[((b * 4 + k) * bh + by) * bw + bx], 1e-5);
                        }
                    }
                }
            }
        }
        // decode(encode(img)) = img for block-constant images.
        float[] latent = runVae(vaeEncoder, "sample", smooth, imageShape, "latent_sample", latentShape);
        float[] back = runVae(vaeDecoder, "latent_sample", latent, latentShape, "sample", imageShape);
        for (int i = 0; i < smooth.length; i++) {
            assertEquals(smooth[i], back[i], 1e-5);
        }
    }

    // --- expectations computed here, in double, from the scheduler config's numbers ---

    /** 0.18215 E (2c - 1). */
    private static double[] scaledLatent(float[] rgb) {
        float[][] e = BuiltinModel.latentFromPixel();
        double[] x0 = new double[4];
        for (int k = 0; k < 4; k++) {
            for (int c = 0; c < 3; c++) {
                x0[k] += SCALING * e[k][c] * (2.0 * rgb[c] - 1);
            }
        }
        return x0;
    }

    // --- ONNX Runtime plumbing ---

    private static float[] runUnet(float[] sample, int batch, int h, int w, float[] timestep, float[] states)
            throws OrtException {
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(sample), new long[] {batch, 4, h, w});
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(timestep), new long[] {timestep.length});
             OnnxTensor s = OnnxTensor.createTensor(env, FloatBuffer.wrap(states), new long[] {batch, 77, HIDDEN});
             OrtSession.Result out = unet.run(Map.of("sample", x, "timestep", t, "encoder_hidden_states", s))) {
            return floats(out, "out_sample", batch, 4, h, w);
        }
    }

    private static float[] runVae(OrtSession session, String inName, float[] data, long[] inShape, String outName,
            long[] outShape) throws OrtException {
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), inShape);
             OrtSession.Result out = session.run(Map.of(inName, in))) {
            return floats(out, outName, outShape);
        }
    }

    private static float[] floats(OrtSession.Result result, String name, long... shape) {
        OnnxTensor tensor = (OnnxTensor) result.get(name).orElseThrow();
        assertArrayEquals(shape, tensor.getInfo().getShape(), name + " shape");
        FloatBuffer buf = tensor.getFloatBuffer();
        float[] out = new float[buf.remaining()];
        buf.get(out);
        return out;
    }

    /** Name, element type and shape; -1 marks a dim that must be symbolic (named). */
    private static void assertSignature(Map<String, NodeInfo> infos, String name, OnnxJavaType type, long... shape) {
        NodeInfo node = infos.get(name);
        assertTrue(node != null, "missing " + name + " in " + infos.keySet());
        TensorInfo info = (TensorInfo) node.getInfo();
        assertEquals(type, info.type, name);
        assertArrayEquals(shape, info.getShape(), name);
        String[] dimNames = info.getDimensionNames();
        for (int i = 0; i < shape.length; i++) {
            assertEquals(shape[i] < 0, !dimNames[i].isEmpty(), name + " dim " + i + " named '" + dimNames[i] + "'");
        }
    }
}
