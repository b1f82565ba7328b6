package dev.latentpipeline.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.pipeline.GenerationRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What each PNG says about how it was made: the seed of its own index, and the img2img and latents inputs. */
class DecodingStageTextTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void eachImageRecordsItsOwnSeed() throws Exception {
        GenerationRequest r = new GenerationRequest("r1", "red", "", 64, 64, 10, 7.5, "euler", 41, 2, null);
        Map<String, String> second = DecodingStage.pngText(r, 1);
        assertTrue(second.get("parameters").contains("Seed: 42"), second.get("parameters"));
        JsonNode json = JSON.readTree(second.get("latent-pipeline"));
        assertEquals(42, json.get("seed").asLong());
        assertEquals(1, json.get("image_index").asInt());
        assertEquals("seed 42", json.get("initial_noise").asText());
        assertFalse(second.get("parameters").contains("Denoising strength"));
    }

    @Test
    void img2imgAndExplicitLatentsAreNamed() throws Exception {
        GenerationRequest r = new GenerationRequest("r2", "red", "", 64, 64, 10, 7.5, "ddim", 5, 1, null,
                "inputs/noise.npy", "inputs/cat.png", null);
        Map<String, String> text = DecodingStage.pngText(r, 0);
        assertTrue(text.get("parameters").endsWith(", Denoising strength: 0.8, Init image: inputs/cat.png, Latents: "
                + "inputs/noise.npy"), text.get("parameters"));
        JsonNode json = JSON.readTree(text.get("latent-pipeline"));
        assertEquals("latents inputs/noise.npy[0]", json.get("initial_noise").asText());
        assertEquals(0.8, json.get("request").get("strength").asDouble());
        assertEquals("inputs/cat.png", json.get("request").get("init_image").asText());
    }
}
