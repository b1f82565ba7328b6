package dev.latentpipeline.e2e;

import static dev.latentpipeline.e2e.PipelineEndToEndTest.color;
import static dev.latentpipeline.e2e.PipelineEndToEndTest.expected;
import static dev.latentpipeline.e2e.PipelineEndToEndTest.mean;
import static dev.latentpipeline.e2e.PipelineEndToEndTest.meanColor;
import static dev.latentpipeline.e2e.PipelineEndToEndTest.toleranceFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.denoise.LocalPipeline;
import dev.latentpipeline.model.builtin.BuiltinColors;
import dev.latentpipeline.model.builtin.BuiltinModel;
import dev.latentpipeline.model.builtin.BuiltinModel.Precision;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.testing.RealInfrastructure;
import dev.latentpipeline.vae.PngImages;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A model export with fp16 weights and a v-prediction UNet, read from sd.model.dir like a user's export, through the
 * broker and S3 as in {@link PipelineEndToEndTest}. The export is the built-in model's variant written in the standard
 * layout (fp16 initializers and float16 graph inputs/outputs, prediction_type v_prediction in scheduler_config.json):
 * reading its UNet output as epsilon, or feeding it float32, would give other colours or a model error.
 */
@QuarkusTest
@TestProfile(ExportVariantEndToEndTest.Fp16VPredictionExport.class)
@WithTestResource(RealInfrastructure.class)
class ExportVariantEndToEndTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_LEVELS = 3;

    public static class Fp16VPredictionExport extends BuiltinExportProfile {
        public Fp16VPredictionExport() {
            super("fp16-v-prediction", Variant.STANDARD.withVPrediction().withPrecision(Precision.FP16));
        }
    }

    private static PipelineClient client;
    private static ImageStore images;

    private static LocalPipeline standard;

    @BeforeAll
    static void connect() throws IOException {
        client = new PipelineClient();
        images = RealInfrastructure.imageStore("sd-images");
        Path dir = Path.of("target", "exports", "standard").toAbsolutePath();
        BuiltinModel.writeTo(dir);
        standard = new LocalPipeline(dir);
    }

    @AfterAll
    static void disconnect() {
        client.close();
        standard.close();
    }

    private BufferedImage generate(String json) throws IOException {
        String id = "x-" + UUID.randomUUID();
        client.submit(id, json);
        JsonNode done = client.awaitTerminal(id, TIMEOUT);
        assertEquals("completed", done.get("type").asText(), done::toString);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(
                images.get(done.get("images").get(0).get("key").asText())));
        assertTrue(image != null, "not a readable image");
        return image;
    }

    /** Without a scheduler in the request the export's own (PNDM, from its scheduler_config.json) runs. */
    @Test
    void theExportsOwnSchedulerWithStrongGuidance() throws IOException {
        BufferedImage png = generate("{\"prompt\":\"a red square\",\"width\":64,\"height\":64,\"steps\":20,"
                + "\"guidance_scale\":7.5,\"seed\":3}");
        assertArrayEquals(expected(color("red"), BuiltinColors.NO_COLOR, 7.5), meanColor(png), toleranceFor("pndm"));
        assertMatchesStandardModel(png, LocalPipeline.request("a red square", "", 7.5, "pndm", 20, 3, 64, 64));
    }

    /**
     * The export predicts velocity in half precision; the standard built-in model predicts noise in float32. Both
     * describe the same denoiser, so from the same seed every pixel must agree to within float16 rounding along the
     * loop (measured: at most 2 of 255 levels, with PNDM; reading velocity as noise moves pixels by 30 to 65 levels
     * with PNDM and DPM-Solver++). The reference runs the same model code in this JVM, without Kafka.
     */
    @ParameterizedTest
    @ValueSource(strings = {"pndm", "ddim", "euler", "euler_a", "lms", "dpmpp_2m", "dpmpp_2m_karras"})
    void everySamplerMatchesTheFloat32NoisePredictingModel(String scheduler) throws IOException {
        BufferedImage png = generate("{\"prompt\":\"orange cyan\",\"negative_prompt\":\"purple\",\"seed\":17,"
                + "\"guidance_scale\":2,\"width\":64,\"height\":48,\"steps\":12,\"scheduler\":\"" + scheduler + "\"}");
        assertEquals(64, png.getWidth());
        assertEquals(48, png.getHeight());
        assertArrayEquals(expected(mean(color("orange"), color("cyan")), color("purple"), 2), meanColor(png),
                toleranceFor(scheduler), scheduler);
        assertMatchesStandardModel(png, LocalPipeline.request("orange cyan", "purple", 2, scheduler, 12, 17, 64, 48));
    }

    private static void assertMatchesStandardModel(BufferedImage png, GenerationRequest request) {
        BufferedImage reference = PngImages.toRgb(standard.generate(request, null, null));
        int levels = maxLevelDifference(reference, png);
        assertTrue(levels <= MAX_LEVELS, () -> request.scheduler() + ": pixels differ by " + levels
                + " levels from the float32 epsilon model");
    }

    private static int maxLevelDifference(BufferedImage a, BufferedImage b) {
        int max = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    max = Math.max(max, Math.abs(((p >> shift) & 0xFF) - ((q >> shift) & 0xFF)));
                }
            }
        }
        return max;
    }
}
