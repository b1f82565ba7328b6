package dev.latentpipeline.e2e;

import static dev.latentpipeline.e2e.BrokerRun.assertPixels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentpipeline.model.builtin.BuiltinColors.Rgb;
import dev.latentpipeline.model.builtin.BuiltinModel.Precision;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.model.builtin.ExpectedImage;
import dev.latentpipeline.model.builtin.ExpectedImage.Request;
import dev.latentpipeline.model.builtin.OverflowingFp16Vae;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SDXL in float16 everywhere, set up as SDXL-Turbo ships (Euler with timestep_spacing trailing, 1 to 4 steps,
 * guidance 0), with a float16 VAE decoder that overflows as SDXL's stock VAE does in half precision once latents
 * grow large (an fp16 activation past 65504; {@link OverflowingFp16Vae}). Ordinary requests match the closed form
 * within float16 rounding; one whose decoding overflows fails with model_error, never a black PNG.
 */
@QuarkusTest
@TestProfile(SdxlTurboFp16EndToEndTest.TurboFp16Export.class)
@WithTestResource(RealInfrastructure.class)
class SdxlTurboFp16EndToEndTest {
    /** Float16 at every session edge (latents, embeddings, predictions, pixels) on top of the fp32 tolerance. */
    static final int LEVELS = 3;

    public static class TurboFp16Export extends BuiltinExportProfile {
        public TurboFp16Export() {
            super("sdxl-turbo-fp16", Variant.SDXL.withPrecision(Precision.FP16));
        }

        @Override
        protected void adjust(Path dir) throws IOException {
            Path config = dir.resolve("scheduler/scheduler_config.json");
            ObjectMapper json = new ObjectMapper();
            ObjectNode scheduler = (ObjectNode) json.readTree(config.toFile());
            scheduler.put("timestep_spacing", "trailing");
            json.writeValue(config.toFile(), scheduler);
            OverflowingFp16Vae.writeDecoder(dir.resolve("vae_decoder/model.onnx"));
        }
    }

    private static BrokerRun run;

    @BeforeAll
    static void connect() {
        run = new BrokerRun();
    }

    @AfterAll
    static void disconnect() {
        run.close();
    }

    static Rgb expected(Request request) {
        return ExpectedImage.pixel(Variant.SDXL, request);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void turboStepsWithoutGuidanceOnTheModelsTrailingEuler(int steps) {
        JsonNode done = run.completed("{\"prompt\":\"orange\",\"prompt_2\":\"pink\",\"guidance_scale\":0,"
                + "\"width\":64,\"height\":64,\"steps\":" + steps + ",\"seed\":31}");
        assertPixels(expected(Request.of("orange", 0, 64, 64).withPrompt2("pink")), run.image(done, 0), LEVELS,
                steps + " steps");
    }

    @Test
    void eulerAncestralTrailingWithGuidance() {
        JsonNode done = run.completed("{\"prompt\":\"cyan\",\"negative_prompt\":\"red\",\"guidance_scale\":1.5,"
                + "\"width\":48,\"height\":64,\"steps\":4,\"scheduler\":\"euler_a\",\"seed\":32}");
        assertPixels(expected(Request.of("cyan", 1.5, 48, 64).withNegativePrompt("red")), run.image(done, 0),
                LEVELS, "euler_a");
    }

    @Test
    void img2imgInHalfPrecision() {
        String init = run.upload(BrokerRun.flatPng(64, 64, 0xFFFFFF));
        JsonNode done = run.completed("{\"prompt\":\"blue\",\"guidance_scale\":0,\"width\":64,\"height\":64,"
                + "\"steps\":4,\"seed\":33,\"strength\":0.5,\"init_image\":\"" + init + "\"}");
        assertPixels(expected(Request.of("blue", 0, 64, 64)), run.image(done, 0), LEVELS, "img2img");
    }

    @Test
    void aDecoderThatOverflowsFailsTheRequestWithAModelError() {
        // Guidance 20 from black to white: latents of about 300 before the VAE, past the fp16 activation's range.
        JsonNode error = run.failed("{\"prompt\":\"white\",\"negative_prompt\":\"black\",\"guidance_scale\":20,"
                + "\"width\":32,\"height\":32,\"steps\":2,\"seed\":34}");
        assertEquals("model_error", error.get("code").asText(), error::toString);
        String message = error.get("message").asText();
        assertTrue(message.contains("vae_decoder") && message.contains("NaN or infinity")
                && message.contains("float16"), message);
    }
}
