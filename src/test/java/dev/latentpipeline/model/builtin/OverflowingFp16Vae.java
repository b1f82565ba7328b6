package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.io.IOException;
import java.nio.file.Path;

import static dev.latentpipeline.model.builtin.OnnxGraph.intAttr;
import static dev.latentpipeline.model.builtin.OnnxGraph.stringAttr;

/**
 * A float16 VAE decoder that overflows the way SDXL's stock VAE does in half precision: it decodes exactly as the
 * built-in fp16 decoder (D, nearest x8, float16 edges) while an internal half-precision activation, latent^2 * 64,
 * stays within float16's range, that is while every unscaled latent value is within +-{@value #LIMIT}; past that
 * the activation is infinite and poisons the whole image with NaN (0 * inf), as an overflow inside a real
 * network does. Requests with ordinary colours decode normally; extreme guidance overflows.
 */
public final class OverflowingFp16Vae {
    /** |latent| beyond which the activation overflows: sqrt(65504 / 64). */
    public static final double LIMIT = Math.sqrt(65504.0 / 64);

    private OverflowingFp16Vae() {
    }

    /** Writes the decoder over {@code file} (an export's vae_decoder/model.onnx). */
    public static void writeDecoder(Path file) throws IOException {
        OnnxGraph g = new OnnxGraph("overflowing_fp16_vae_decoder");
        g.input("latent_sample", DataType.FLOAT, "batch", 4, "latent_height", "latent_width");
        float[][] d = BuiltinModel.pixelFromLatent();
        float[] flat = new float[12];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(d[i], 0, flat, 4 * i, 4);
        }
        String pixels = g.op("Conv", "latent_sample", g.floats("decode", new long[] {3, 4, 1, 1}, flat));
        AttributeProto[] nearest = {
            stringAttr("mode", "nearest"),
            stringAttr("coordinate_transformation_mode", "asymmetric"),
            stringAttr("nearest_mode", "floor"),
        };
        String image = g.op("Resize", nearest, pixels, "", g.floats("upscale", new long[] {4}, 1f, 1f, 8, 8));
        // The half-precision activation: finite, and then 0, unless it overflowed; NaN everywhere if it did.
        String activation = g.op("Mul", g.op("Mul", "latent_sample", "latent_sample"), g.scalar("gain", 64f));
        String half = g.op("Cast", intAttr("to", DataType.FLOAT16.getNumber()), activation);
        String back = g.op("Cast", intAttr("to", DataType.FLOAT.getNumber()), half);
        String poison = g.op("ReduceSum", intAttr("keepdims", 1), g.op("Mul", back, g.scalar("zero", 0f)));
        String out = g.op("Add", image, poison);
        g.output(out, "sample", DataType.FLOAT, "batch", 3, "height", "width");
        ExportFiles.model(file, true, g.toModel("Built-in VAE decoder with an fp16 activation that can overflow."));
    }
}
