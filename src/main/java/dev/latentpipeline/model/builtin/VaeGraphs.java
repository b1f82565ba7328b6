package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.io.IOException;
import java.nio.file.Path;

import static dev.latentpipeline.model.builtin.OnnxGraph.intsAttr;
import static dev.latentpipeline.model.builtin.OnnxGraph.stringAttr;

/**
 * The VAE pair: the decoder mixes the 4 latent channels into 3 pixel channels with D and repeats each latent into an
 * 8x8 block; the encoder averages 8x8 blocks and mixes 3 channels into 4 with E. D E = I, so decode(encode(img)) = img
 * for block-constant images.
 */
final class VaeGraphs {
    static final int FACTOR = 8;

    private VaeGraphs() {
    }

    /**
     * Writes the VAE's side of an export, the same for every family: decoder, the preview decoder in TAESD's place
     * (so previews of the built-in model show its exact colours) and encoder.
     */
    static void writeAll(Path dir, boolean fp16, float[][] encode, float[][] decode, float vaeScalingFactor,
            boolean latentParameters) throws IOException {
        ExportFiles.model(dir.resolve("vae_decoder/model.onnx"), fp16, decoder(decode));
        ExportFiles.model(dir.resolve("taesd_decoder/model.onnx"), fp16, previewDecoder(decode, vaeScalingFactor));
        ExportFiles.json(dir.resolve("taesd_decoder/config.json"), ExportFiles.previewDecoderConfig());
        ExportFiles.model(dir.resolve("vae_encoder/model.onnx"), fp16, latentParameters
                ? encoderParameters(encode, BuiltinModel.ENCODER_LOG_VARIANCE) : encoder(encode));
    }

    static ModelProto decoder(float[][] decode) {
        OnnxGraph g = new OnnxGraph("builtin_vae_decoder");
        g.input("latent_sample", DataType.FLOAT, "batch", 4, "latent_height", "latent_width");
        String pixels = g.op("Conv", "latent_sample", g.floats("decode", new long[] {3, 4, 1, 1}, flatten(decode)));
        // Nearest with asymmetric coordinates and floor: output (i, j) reads input (i / 8, j / 8) exactly.
        AttributeProto[] nearest = {
            stringAttr("mode", "nearest"),
            stringAttr("coordinate_transformation_mode", "asymmetric"),
            stringAttr("nearest_mode", "floor"),
        };
        String image = g.op("Resize", nearest, pixels, "",
                g.floats("upscale", new long[] {4}, 1f, 1f, FACTOR, FACTOR));
        g.output(image, "sample", DataType.FLOAT, "batch", 3, "height", "width");
        return g.toModel("Built-in tiny VAE decoder: 1x1 conv with D, then nearest upsampling x8.");
    }

    /**
     * A TAESD-like preview decoder: the UNet's (scaled) latents in, the decoder's pixels out, as diffusers'
     * AutoencoderTiny does (its scaling factor is 1: the latents are divided by the VAE's factor inside).
     */
    static ModelProto previewDecoder(float[][] decode, float vaeScalingFactor) {
        OnnxGraph g = new OnnxGraph("builtin_taesd_decoder");
        g.input("latent_sample", DataType.FLOAT, "batch", 4, "latent_height", "latent_width");
        String unscaled = g.op("Mul", "latent_sample", g.scalar("unscale", 1f / vaeScalingFactor));
        String pixels = g.op("Conv", unscaled, g.floats("decode", new long[] {3, 4, 1, 1}, flatten(decode)));
        AttributeProto[] nearest = {
            stringAttr("mode", "nearest"),
            stringAttr("coordinate_transformation_mode", "asymmetric"),
            stringAttr("nearest_mode", "floor"),
        };
        String image = g.op("Resize", nearest, pixels, "",
                g.floats("upscale", new long[] {4}, 1f, 1f, FACTOR, FACTOR));
        g.output(image, "sample", DataType.FLOAT, "batch", 3, "height", "width");
        return g.toModel("Built-in preview decoder (TAESD's place): latents / scaling factor, then the VAE decoder.");
    }

    static ModelProto encoder(float[][] encode) {
        OnnxGraph g = new OnnxGraph("builtin_vae_encoder");
        g.input("sample", DataType.FLOAT, "batch", 3, "height", "width");
        String pooled = g.op("AveragePool",
                new AttributeProto[] {intsAttr("kernel_shape", FACTOR, FACTOR), intsAttr("strides", FACTOR, FACTOR)},
                "sample");
        String latent = g.op("Conv", pooled, g.floats("encode", new long[] {4, 3, 1, 1}, flatten(encode)));
        g.output(latent, "latent_sample", DataType.FLOAT, "batch", 4, "latent_height", "latent_width");
        return g.toModel("Built-in tiny VAE encoder: 8x8 average pooling, then 1x1 conv with E (unscaled latent).");
    }

    /**
     * The optimum-style encoder: {@code latent_parameters} [batch, 8, h, w], the mean (as {@link #encoder}) and a
     * constant log-variance concatenated on the channel axis; the pipeline samples mean + exp(logvar / 2) noise.
     */
    static ModelProto encoderParameters(float[][] encode, float logVariance) {
        OnnxGraph g = new OnnxGraph("builtin_vae_encoder_parameters");
        g.input("sample", DataType.FLOAT, "batch", 3, "height", "width");
        String pooled = g.op("AveragePool",
                new AttributeProto[] {intsAttr("kernel_shape", FACTOR, FACTOR), intsAttr("strides", FACTOR, FACTOR)},
                "sample");
        String mean = g.op("Conv", pooled, g.floats("encode", new long[] {4, 3, 1, 1}, flatten(encode)));
        // logvar = 0 * mean + c keeps the mean's shape without a Shape/Expand pair.
        String logVar = g.op("Add", g.op("Mul", mean, g.scalar("zero", 0f)), g.scalar("log_variance", logVariance));
        String parameters = g.op("Concat", OnnxGraph.intAttr("axis", 1), mean, logVar);
        g.output(parameters, "latent_parameters", DataType.FLOAT, "batch", 8, "latent_height", "latent_width");
        return g.toModel("Built-in tiny VAE encoder: mean and log-variance (optimum's latent_parameters form).");
    }

    private static float[] flatten(float[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }
}
