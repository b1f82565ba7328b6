package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The request contract's model-specific part on the default profile's SD 1.x model (the built-in one, as in
 * {@link PipelineEndToEndTest}, so no extra restart): SDXL's fields are refused naming each, and a request without
 * negative_prompt is the same image as one with "" (diffusers' StableDiffusionPipeline encodes "" for it).
 */
@QuarkusTest
@WithTestResource(RealInfrastructure.class)
class SdFamilyEndToEndTest {
    private static BrokerRun run;

    @BeforeAll
    static void connect() {
        run = new BrokerRun();
    }

    @AfterAll
    static void disconnect() {
        run.close();
    }

    @Test
    void sdxlFieldsAreRefusedOnAnSdModel() {
        JsonNode error = run.failed("{\"prompt\":\"red\",\"prompt_2\":\"blue\",\"original_size\":[64,64]}");
        assertEquals("invalid_request", error.get("code").asText());
        assertEquals("prompt_2", error.get("fields").get(0).get("field").asText(), error::toString);
        assertEquals("original_size", error.get("fields").get(1).get("field").asText(), error::toString);
        assertTrue(error.get("message").asText().contains("SD 1.x"), error::toString);
    }

    @Test
    void noNegativePromptIsTheEmptyOne() {
        String base = "\"prompt\":\"red blue\",\"guidance_scale\":3,\"width\":32,\"height\":32,\"steps\":6,"
                + "\"scheduler\":\"dpmpp_2m\",\"seed\":12";
        BufferedImage absent = run.image(run.completed("{" + base + "}"), 0);
        BufferedImage empty = run.image(run.completed("{" + base + ",\"negative_prompt\":\"\"}"), 0);
        assertArrayEquals(absent.getRGB(0, 0, 32, 32, null, 0, 32), empty.getRGB(0, 0, 32, 32, null, 0, 32));
        // Not trivially equal: a real negative prompt changes it.
        BufferedImage green = run.image(run.completed("{" + base + ",\"negative_prompt\":\"green\"}"), 0);
        assertTrue(BrokerRun.maxLevels(green, new dev.latentpipeline.model.builtin.BuiltinColors.Rgb(
                (absent.getRGB(0, 0) >> 16 & 0xFF) / 255f, (absent.getRGB(0, 0) >> 8 & 0xFF) / 255f,
                (absent.getRGB(0, 0) & 0xFF) / 255f)) > 20);
    }
}
