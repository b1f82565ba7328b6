package dev.latentpipeline.e2e;

import static dev.latentpipeline.e2e.BrokerRun.assertNoisyPixels;
import static dev.latentpipeline.e2e.BrokerRun.assertPixels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.model.builtin.BuiltinColors.Rgb;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.model.builtin.ExpectedImage;
import dev.latentpipeline.model.builtin.ExpectedImage.Crop;
import dev.latentpipeline.model.builtin.ExpectedImage.Request;
import dev.latentpipeline.model.builtin.ExpectedImage.Size;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Npy;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An export in optimum's ORTStableDiffusionXLPipeline layout (the built-in model's SDXL form, float32) served from
 * sd.model.dir with no other setting, through the broker and the bucket. Every PNG is compared pixel by pixel with
 * {@link ExpectedImage}, the closed form that depends on both text encoders, the pooled embedding, the time ids and
 * force_zeros_for_empty_prompt: a wrong concatenation, layer, pooled input or time id moves it by 0.1 or more.
 */
@QuarkusTest
@TestProfile(SdxlEndToEndTest.SdxlExport.class)
@WithTestResource(RealInfrastructure.class)
class SdxlEndToEndTest {
    /** One 8-bit level of rounding, plus float error along the loop. */
    static final int LEVELS = 2;
    static final Variant SDXL = Variant.SDXL;

    public static class SdxlExport extends BuiltinExportProfile {
        public SdxlExport() {
            super("sdxl", SDXL);
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
        return ExpectedImage.pixel(SDXL, request);
    }

    @Test
    void txt2imgWithBothPromptsAndANegativePrompt() {
        JsonNode done = run.completed("{\"prompt\":\"orange\",\"prompt_2\":\"cyan\",\"negative_prompt\":\"purple\","
                + "\"guidance_scale\":2,\"width\":64,\"height\":48,\"steps\":12,\"scheduler\":\"euler\",\"seed\":3}");
        BufferedImage png = run.image(done, 0);
        assertEquals(64, png.getWidth());
        assertEquals(48, png.getHeight());
        Rgb want = expected(Request.of("orange", 2, 64, 48).withPrompt2("cyan").withNegativePrompt("purple"));
        assertPixels(want, png, LEVELS, "orange + cyan against purple");
        // Reading prompt for text_encoder_2 as well would give orange alone: the test can tell.
        assertNotEquals(expected(Request.of("orange", 2, 64, 48).withNegativePrompt("purple")), want);
        assertEquals(List.of("text-encoder", "unet", "vae"), stages(done));
    }

    @ParameterizedTest
    @ValueSource(strings = {"pndm", "ddim", "euler", "euler_a", "lms", "dpmpp_2m", "dpmpp_2m_karras", "lcm"})
    void everySchedulerReachesTheClosedForm(String scheduler) {
        JsonNode done = run.completed("{\"prompt\":\"red white\",\"prompt_2\":\"blue\",\"negative_prompt\":\"green\","
                + "\"negative_prompt_2\":\"yellow\",\"guidance_scale\":1.5,\"width\":64,\"height\":64,\"steps\":12,"
                + "\"seed\":21,\"scheduler\":\"" + scheduler + "\"}");
        Rgb want = expected(Request.of("red white", 1.5, 64, 64).withPrompt2("blue").withNegativePrompt("green")
                .withNegativePrompt2("yellow"));
        if (scheduler.equals("pndm") || scheduler.equals("ddim")) {
            assertNoisyPixels(want, run.image(done, 0), scheduler);
        } else {
            assertPixels(want, run.image(done, 0), LEVELS, scheduler);
        }
    }

    @Test
    void noNegativePromptIsZeroConditioningWhileAnEmptyOneIsEncoded() {
        String base = "\"prompt\":\"grey\",\"guidance_scale\":3,\"width\":32,\"height\":32,\"steps\":8,"
                + "\"scheduler\":\"euler\",\"seed\":4";
        Rgb absent = expected(Request.of("grey", 3, 32, 32));
        Rgb empty = expected(Request.of("grey", 3, 32, 32).withNegativePrompt(""));
        // The README's example: white without a negative prompt, grey with "".
        assertEquals(new Rgb(1, 1, 1), absent);
        assertEquals(new Rgb(0.5f, 0.5f, 0.5f), empty);
        assertPixels(absent, run.image(run.completed("{" + base + "}"), 0), LEVELS, "absent");
        assertPixels(empty, run.image(run.completed("{" + base + ",\"negative_prompt\":\"\"}"), 0), LEVELS, "\"\"");
        // negative_prompt_2 alone does not undo the zeros (and the event says so).
        JsonNode second = run.completed("{" + base + ",\"negative_prompt_2\":\"red\"}");
        assertPixels(absent, run.image(second, 0), LEVELS, "negative_prompt_2 alone");
        assertTrue(second.get("warnings").toString().contains("negative_prompt_2 is not used"), second::toString);
    }

    @Test
    void timeIdsFromTheRequest() {
        JsonNode done = run.completed("{\"prompt\":\"orange\",\"guidance_scale\":1,\"width\":64,\"height\":64,"
                + "\"steps\":8,\"scheduler\":\"euler\",\"seed\":5,\"original_size\":[32,64],"
                + "\"crops_coords_top_left\":[8,16],\"target_size\":[64,48]}");
        Rgb want = expected(Request.of("orange", 1, 64, 64).withTimeIds(new Size(32, 64), new Crop(8, 16),
                new Size(64, 48)));
        assertPixels(want, run.image(done, 0), LEVELS, "time ids");
        assertNotEquals(expected(Request.of("orange", 1, 64, 64)), want);
    }

    @Test
    void negativeTimeIdsWhenBothNegativeSizesAreGiven() {
        String base = "\"prompt\":\"purple\",\"negative_prompt\":\"green\",\"guidance_scale\":2,\"width\":64,"
                + "\"height\":64,\"steps\":8,\"scheduler\":\"euler\",\"seed\":6,\"original_size\":[64,64]";
        Request request = Request.of("purple", 2, 64, 64).withNegativePrompt("green")
                .withTimeIds(new Size(64, 64), null, null);
        Rgb both = expected(request.withNegativeTimeIds(new Size(48, 64), new Crop(0, 16), new Size(64, 56)));
        assertPixels(both, run.image(run.completed("{" + base + ",\"negative_original_size\":[48,64],"
                + "\"negative_crops_coords_top_left\":[0,16],\"negative_target_size\":[64,56]}"), 0), LEVELS, "both");
        // One negative size alone: the unconditional side keeps the conditional time ids.
        Rgb one = expected(request);
        assertNotEquals(both, one);
        assertPixels(one, run.image(run.completed("{" + base + ",\"negative_original_size\":[48,64]}"), 0), LEVELS,
                "one");
    }

    @Test
    void twoImagesFromExplicitLatents() {
        FloatTensor noise = FloatTensor.zeros(2, 4, 6, 8);
        Random random = new Random(7);
        for (int i = 0; i < noise.data().length; i++) {
            noise.data()[i] = (float) random.nextGaussian();
        }
        String key = run.upload(Npy.write(noise));
        JsonNode done = run.completed("{\"prompt\":\"magenta\",\"prompt_2\":\"yellow\",\"guidance_scale\":4,"
                + "\"width\":64,\"height\":48,\"steps\":10,\"scheduler\":\"dpmpp_2m\",\"seed\":90,\"num_images\":2,"
                + "\"latents\":\"" + key + "\"}");
        assertEquals(2, done.get("images").size());
        Rgb want = expected(Request.of("magenta", 4, 64, 48).withPrompt2("yellow"));
        for (int k = 0; k < 2; k++) {
            assertEquals(90 + k, done.get("images").get(k).get("seed").asLong());
            assertPixels(want, run.image(done, k), LEVELS, "image " + k);
        }
    }

    @Test
    void img2imgLandsOnThePromptsColour() {
        String init = run.upload(BrokerRun.flatPng(64, 64, 0x0000FF));
        JsonNode done = run.completed("{\"prompt\":\"red\",\"prompt_2\":\"yellow\",\"negative_prompt\":\"\","
                + "\"guidance_scale\":2,\"width\":64,\"height\":64,\"steps\":10,\"scheduler\":\"euler_a\","
                + "\"seed\":8,\"strength\":0.6,\"init_image\":\"" + init + "\",\"original_size\":[128,128],"
                + "\"negative_crops_coords_top_left\":[8,8]}");
        assertPixels(expected(Request.of("red", 2, 64, 64).withPrompt2("yellow").withNegativePrompt("")
                .withTimeIds(new Size(128, 128), null, null)), run.image(done, 0), LEVELS, "img2img");
        // diffusers' img2img pipeline never reads the negative crop: said, not silently dropped.
        assertTrue(done.get("warnings").toString().contains("negative_crops_coords_top_left is not used"),
                done::toString);
    }

    @Test
    void img2imgAtStrengthZeroReturnsTheInitImage() {
        String init = run.upload(BrokerRun.flatPng(32, 32, 0x00FF00));
        JsonNode done = run.completed("{\"prompt\":\"red\",\"width\":32,\"height\":32,\"steps\":4,\"seed\":8,"
                + "\"strength\":0,\"init_image\":\"" + init + "\"}");
        // Through the encoder (mean + 0.05 noise, x 0.13025) and the decoder (/ 0.13025): green back.
        BufferedImage png = run.image(done, 0);
        assertTrue(BrokerRun.maxLevels(png, new Rgb(0, 1, 0)) <= 0.05 * 255, "green after the round trip");
    }

    @Test
    void withoutASizeTheImageIsSdxls1024Square() {
        JsonNode done = run.completed("{\"prompt\":\"black\",\"guidance_scale\":1,\"steps\":1,\"scheduler\":\"euler\","
                + "\"seed\":9}");
        JsonNode image = done.get("images").get(0);
        assertEquals(1024, image.get("width").asInt());
        assertEquals(1024, image.get("height").asInt());
        BufferedImage png = run.image(done, 0);
        assertEquals(1024, png.getWidth());
        assertPixels(expected(Request.of("black", 1, 1024, 1024)), png, LEVELS, "1024 x 1024");
        JsonNode accepted = run.client.eventsOf(done.get("request_id").asText()).get(0);
        assertEquals(1024, accepted.get("request").get("width").asInt(), accepted::toString);
        assertFalse(accepted.get("request").has("negative_prompt"), "absent stays absent: " + accepted);
    }

    private static List<String> stages(JsonNode done) {
        java.util.List<String> out = new java.util.ArrayList<>();
        done.get("stages").forEach(s -> out.add(s.get("stage").asText()));
        return out.stream().distinct().toList();
    }
}
