package dev.latentpipeline.model.builtin;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.latentpipeline.model.builtin.OrtCalls.Feed;
import dev.latentpipeline.model.builtin.OrtCalls.Output;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Runs a written SDXL folder the way diffusers' StableDiffusionXLPipeline feeds it, spelled out by hand: tokenizer
 * ids (tokenizer_2 pads with "!"), both encoders, hidden_states[-2] of each concatenated on the feature axis with
 * text_encoder's first, text_encoder_2's text_embeds as the pooled embedding; then one UNet call whose noise
 * prediction is turned back into the colour it aims at.
 */
final class SdxlRig implements AutoCloseable {
    static final int LENGTH = 77;
    static final int WIDTH = 80;
    static final int POOLED = 40;
    /** The timestep the colour probes use, and its sigma. */
    static final float PROBE_T = 500;

    final OrtSession textEncoder;
    final OrtSession textEncoder2;
    final OrtSession unet;
    final OrtSession vaeDecoder;
    final OrtSession vaeEncoder;
    final ClipBpe bpe;

    SdxlRig(Path dir) throws IOException, OrtException {
        textEncoder = OrtCalls.open(dir.resolve("text_encoder/model.onnx"));
        textEncoder2 = OrtCalls.open(dir.resolve("text_encoder_2/model.onnx"));
        unet = OrtCalls.open(dir.resolve("unet/model.onnx"));
        vaeDecoder = OrtCalls.open(dir.resolve("vae_decoder/model.onnx"));
        vaeEncoder = OrtCalls.open(dir.resolve("vae_encoder/model.onnx"));
        bpe = new ClipBpe(dir.resolve("tokenizer"));
    }

    /** One branch's UNet conditioning: encoder_hidden_states [77, 80] and text_embeds [40]. */
    record Conditioning(float[] hidden, float[] pooled) {
        static Conditioning zeros() {
            return new Conditioning(new float[LENGTH * WIDTH], new float[POOLED]);
        }
    }

    /** Both encoders' outputs for a prompt pair, by output name. */
    record Encoded(Map<String, Output> first, Map<String, Output> second) {
    }

    Encoded encode(String prompt, String prompt2) throws OrtException {
        int[] ids = bpe.inputIds(prompt);
        int[] ids2 = bpe.inputIds(prompt2, bpe.vocab.get("!"));
        long[] longIds = new long[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            longIds[i] = ids2[i];
        }
        return new Encoded(OrtCalls.run(textEncoder, Map.of("input_ids", new Feed(ids, 1, LENGTH))),
                OrtCalls.run(textEncoder2, Map.of("input_ids", new Feed(longIds, 1, LENGTH))));
    }

    /** diffusers: concat(text_encoder hidden_states[-2], text_encoder_2 hidden_states[-2]), pooled = text_embeds. */
    Conditioning diffusers(String prompt, String prompt2) throws OrtException {
        Encoded e = encode(prompt, prompt2);
        return concat(e.first().get("hidden_states.1").data(), e.second().get("hidden_states.2").data(),
                e.second().get("text_embeds").data());
    }

    /** Per position, {@code a}'s features then {@code b}'s. */
    static Conditioning concat(float[] a, float[] b, float[] pooled) {
        int wa = a.length / LENGTH;
        int wb = b.length / LENGTH;
        float[] out = new float[LENGTH * (wa + wb)];
        for (int p = 0; p < LENGTH; p++) {
            System.arraycopy(a, p * wa, out, p * (wa + wb), wa);
            System.arraycopy(b, p * wb, out, p * (wa + wb) + wa, wb);
        }
        return new Conditioning(out, pooled);
    }

    /** diffusers' default time ids for an image of height x width: (h, w, 0, 0, h, w). */
    static float[] defaultTimeIds(int height, int width) {
        return new float[] {height, width, 0, 0, height, width};
    }

    /**
     * The colour each batch item's prediction aims at: one UNet call at {@link #PROBE_T} on a random sample of
     * latent size {@code height / 8 x width / 8}, x0 = x sqrt(1 + sigma^2) - sigma eps, decoded by D / 0.13025.
     * With {@code guidance} > 0 and two items, returns the guided colour of eps_0 + g (eps_1 - eps_0) instead.
     */
    double[][] targetColors(List<Conditioning> batch, List<float[]> timeIds, int height, int width,
            float[] timestepCond, double guidance) throws OrtException {
        int b = batch.size();
        int h = height / 8;
        int w = width / 8;
        int n = 4 * h * w;
        float[] sample = new float[b * n];
        Random random = new Random(17);
        for (int i = 0; i < n; i++) {
            sample[i] = (float) random.nextGaussian();
        }
        for (int item = 1; item < b; item++) {
            System.arraycopy(sample, 0, sample, item * n, n);  // one latent, as diffusers' CFG batch has it
        }
        float[] hidden = new float[b * LENGTH * WIDTH];
        float[] pooled = new float[b * POOLED];
        float[] ids = new float[b * 6];
        for (int item = 0; item < b; item++) {
            System.arraycopy(batch.get(item).hidden(), 0, hidden, item * LENGTH * WIDTH, LENGTH * WIDTH);
            System.arraycopy(batch.get(item).pooled(), 0, pooled, item * POOLED, POOLED);
            System.arraycopy(timeIds.get(item), 0, ids, item * 6, 6);
        }
        Map<String, Feed> feeds = new LinkedHashMap<>();
        feeds.put("sample", new Feed(sample, b, 4, h, w));
        feeds.put("timestep", new Feed(new float[] {PROBE_T}));
        feeds.put("encoder_hidden_states", new Feed(hidden, b, LENGTH, WIDTH));
        feeds.put("text_embeds", new Feed(pooled, b, POOLED));
        feeds.put("time_ids", new Feed(ids, b, 6));
        if (timestepCond != null) {
            int dim = timestepCond.length;
            float[] cond = new float[b * dim];
            for (int item = 0; item < b; item++) {
                System.arraycopy(timestepCond, 0, cond, item * dim, dim);
            }
            feeds.put("timestep_cond", new Feed(cond, b, dim));
        }
        float[] eps = OrtCalls.output(OrtCalls.run(unet, feeds), "out_sample", b, 4, h, w);
        double sigma = TrainingSigmas.at(PROBE_T);
        double inputScale = Math.sqrt(1 + sigma * sigma);
        int items = guidance > 0 ? 1 : b;
        double[][] colors = new double[items][];
        for (int item = 0; item < items; item++) {
            double[] x0 = new double[4];
            for (int c = 0; c < 4; c++) {
                int at = c * h * w;  // pixel (0, 0); the target is flat
                double e = guidance > 0 ? eps[at] + guidance * (eps[n + at] - eps[at]) : eps[item * n + at];
                x0[c] = sample[at] * inputScale - sigma * e;
            }
            colors[item] = SdxlClosedForm.colorOfLatent(x0);
        }
        return colors;
    }

    /** The target colour of one conditioning. */
    double[] targetColor(Conditioning conditioning, float[] timeIds, int height, int width) throws OrtException {
        return targetColors(List.of(conditioning), List.of(timeIds), height, width, null, 0)[0];
    }

    @Override
    public void close() throws OrtException {
        for (OrtSession s : new OrtSession[] {textEncoder, textEncoder2, unet, vaeDecoder, vaeEncoder}) {
            s.close();
        }
    }
}
