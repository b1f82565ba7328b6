package dev.latentpipeline.e2e;

import static dev.latentpipeline.e2e.BrokerRun.assertPixels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.model.builtin.BuiltinColors.Rgb;
import dev.latentpipeline.model.builtin.BuiltinModel.Precision;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.model.builtin.ExpectedImage;
import dev.latentpipeline.model.builtin.ExpectedImage.Request;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An LCM-distilled SDXL as such exports ship: a UNet with timestep_cond (time_cond_proj_dim 256), an LCMScheduler
 * config, float16 text encoders and UNet with a float32 VAE. The pipeline feeds get_guidance_scale_embedding(g - 1)
 * and runs no unconditional pass, as diffusers does when time_cond_proj_dim is set; the UNet reads g back from the
 * embedding, so a wrong embedding (or none) gives another colour.
 */
@QuarkusTest
@TestProfile(SdxlLcmEndToEndTest.LcmMixedPrecisionExport.class)
@WithTestResource(RealInfrastructure.class)
class SdxlLcmEndToEndTest {
    static final int LEVELS = 3;
    static final Variant VARIANT = Variant.SDXL.withPrecision(Precision.FP16_WITH_FP32_VAE).withGuidanceEmbedding()
            .withLcmScheduler();

    public static class LcmMixedPrecisionExport extends BuiltinExportProfile {
        public LcmMixedPrecisionExport() {
            super("sdxl-lcm-fp16-fp32-vae", VARIANT);
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
        return ExpectedImage.pixel(VARIANT, request);
    }

    @Test
    void theModelsLcmSchedulerInFourStepsGuidedByTheEmbedding() {
        JsonNode done = run.completed("{\"prompt\":\"orange\",\"prompt_2\":\"white\",\"guidance_scale\":1.5,"
                + "\"width\":64,\"height\":64,\"steps\":4,\"seed\":41}");
        Rgb want = expected(Request.of("orange", 1.5, 64, 64).withPrompt2("white"));
        assertPixels(want, run.image(done, 0), LEVELS, "lcm");
        // The embedding of g instead of g - 1 gives the image of g + 1; none at all, g = 0 (grey): both differ.
        assertNotEquals(expected(Request.of("orange", 2.5, 64, 64).withPrompt2("white")), want);
        assertNotEquals(expected(Request.of("orange", 0, 64, 64).withPrompt2("white")), want);
        JsonNode accepted = run.client.eventsOf(done.get("request_id").asText()).get(0);
        assertTrue(done.toString().contains("\"unet\""), done::toString);
        assertEquals("orange", accepted.get("request").get("prompt").asText());
    }

    @Test
    void aNegativePromptHasNoEffectAndTheEventSaysSo() {
        JsonNode done = run.completed("{\"prompt\":\"green\",\"negative_prompt\":\"red\",\"guidance_scale\":3,"
                + "\"width\":32,\"height\":32,\"steps\":2,\"seed\":42}");
        assertPixels(expected(Request.of("green", 3, 32, 32)), run.image(done, 0), LEVELS, "negative ignored");
        assertTrue(done.get("warnings").toString().contains("negative_prompt has no effect"), done::toString);
    }

    @Test
    void img2imgAndTwoImagesWithLcm() {
        String init = run.upload(BrokerRun.flatPng(48, 32, 0xFF00FF));
        JsonNode done = run.completed("{\"prompt\":\"yellow\",\"guidance_scale\":1.5,\"width\":48,\"height\":32,"
                + "\"steps\":4,\"seed\":43,\"strength\":0.5,\"num_images\":2,\"init_image\":\"" + init + "\"}");
        Rgb want = expected(Request.of("yellow", 1.5, 48, 32));
        for (int k = 0; k < 2; k++) {
            assertPixels(want, run.image(done, k), LEVELS, "image " + k);
        }
    }

    @Test
    void anotherSchedulerOnTheGuidanceEmbeddingUnet() {
        JsonNode done = run.completed("{\"prompt\":\"purple\",\"guidance_scale\":2,\"width\":32,\"height\":32,"
                + "\"steps\":6,\"scheduler\":\"euler\",\"seed\":44}");
        assertPixels(expected(Request.of("purple", 2, 32, 32)), run.image(done, 0), LEVELS, "euler");
    }
}
