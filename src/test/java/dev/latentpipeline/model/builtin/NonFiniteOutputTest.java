package dev.latentpipeline.model.builtin;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.model.OnnxRuntime;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.vae.VaeDecoder;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A decoder that overflows (fp16 VAEs do: SDXL's stock VAE in fp16) returns NaN or infinity; the pipeline refuses
 * it at the model's edge, naming the model and the output, instead of turning it into a black PNG.
 */
class NonFiniteOutputTest {

    @Test
    void aDecoderThatReturnsNanFailsNamingItsModelAndOutput(@TempDir Path dir) throws IOException {
        // The built-in decoder's graph divided by zero: 0/0 is NaN, x/0 infinite.
        OnnxGraph g = new OnnxGraph("nan_vae_decoder");
        g.input("latent_sample", DataType.FLOAT, "batch", 4, "latent_height", "latent_width");
        String zero = g.op("Mul", "latent_sample", g.scalar("zero", 0f));
        String nan = g.op("Div", zero, g.scalar("also_zero", 0f));
        g.output(nan, "sample", DataType.FLOAT, "batch", 4, "latent_height", "latent_width");
        Path file = dir.resolve("vae_decoder/model.onnx");
        ExportFiles.model(file, false, g.toModel("a VAE decoder that overflows"));
        try (OnnxModel model = new OnnxRuntime(OnnxRuntime.Provider.CPU, 0, 1).open("vae_decoder", file)) {
            VaeDecoder decoder = new VaeDecoder(model, 0.18215f);
            ModelException e = assertThrows(ModelException.class, () -> decoder.decode(FloatTensor.zeros(1, 4, 2, 2)));
            assertTrue(e.getMessage().contains("vae_decoder") && e.getMessage().contains("'sample'")
                    && e.getMessage().contains("NaN"), e.getMessage());
        }
    }
}
