package dev.latentpipeline.model.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generated folder: layout, configs, size, determinism and the tokenizer files. */
class BuiltinModelFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() throws IOException {
        BuiltinModel.writeTo(dir);
    }

    @Test
    void hasTheStandardOnnxExportLayoutUnderTwoMegabytes() throws IOException {
        for (String file : List.of("model_index.json", "scheduler/scheduler_config.json", "tokenizer/vocab.json",
                "tokenizer/merges.txt", "tokenizer/special_tokens_map.json", "tokenizer/tokenizer_config.json",
                "text_encoder/model.onnx", "unet/model.onnx", "vae_decoder/model.onnx", "vae_encoder/model.onnx",
                "vae_decoder/config.json")) {
            assertTrue(Files.isRegularFile(dir.resolve(file)), file);
        }
        assertTrue(totalSize(dir) < 2 * 1024 * 1024, "total size " + totalSize(dir));
    }

    @Test
    void configsAreSd15s() throws IOException {
        JsonNode index = JSON.readTree(dir.resolve("model_index.json").toFile());
        assertEquals("OnnxStableDiffusionPipeline", index.get("_class_name").asText());
        assertTrue(index.has("_diffusers_version"));
        for (String part : List.of("text_encoder", "unet", "vae_decoder", "vae_encoder")) {
            assertEquals("OnnxRuntimeModel", index.get(part).get(1).asText(), part);
        }
        assertEquals("CLIPTokenizer", index.get("tokenizer").get(1).asText());

        JsonNode s = JSON.readTree(dir.resolve("scheduler/scheduler_config.json").toFile());
        assertEquals("PNDMScheduler", s.get("_class_name").asText());
        assertEquals(0.00085, s.get("beta_start").asDouble());
        assertEquals(0.012, s.get("beta_end").asDouble());
        assertEquals("scaled_linear", s.get("beta_schedule").asText());
        assertEquals(1000, s.get("num_train_timesteps").asInt());
        assertEquals(1, s.get("steps_offset").asInt());
        assertTrue(s.get("skip_prk_steps").asBoolean());
        assertFalse(s.get("set_alpha_to_one").asBoolean());
        assertFalse(s.get("clip_sample").asBoolean());
        assertEquals("epsilon", s.get("prediction_type").asText());
        assertEquals("leading", s.get("timestep_spacing").asText());

        JsonNode tok = JSON.readTree(dir.resolve("tokenizer/tokenizer_config.json").toFile());
        assertEquals(77, tok.get("model_max_length").asInt());
        assertEquals("<|endoftext|>", tok.get("pad_token").asText());
        assertEquals(0.18215, JSON.readTree(dir.resolve("vae_decoder/config.json").toFile())
                .get("scaling_factor").asDouble());
    }

    @Test
    void generationIsByteIdentical(@TempDir Path again) throws IOException {
        BuiltinModel.writeTo(again);
        Map<String, byte[]> first = contents(dir);
        Map<String, byte[]> second = contents(again);
        assertEquals(first.keySet(), second.keySet());
        first.forEach((name, bytes) -> assertArrayEquals(bytes, second.get(name), name));
    }

    @Test
    void vocabularyFollowsClipsOrdering() throws IOException {
        ClipBpe bpe = new ClipBpe(dir.resolve("tokenizer"));
        assertEquals(0, bpe.vocab.get("!"));
        assertEquals(256, bpe.vocab.get("!</w>"));
        assertEquals(255, bpe.vocab.get("\u0143"));  // byte 0xAD, the last unprintable byte's symbol
        int size = bpe.vocab.size();
        assertEquals(size - 2, bpe.vocab.get("<|startoftext|>"));
        assertEquals(size - 1, bpe.vocab.get("<|endoftext|>"));
        assertEquals("#version: 0.2", Files.readAllLines(dir.resolve("tokenizer/merges.txt")).get(0));
        // Merge results follow the 512 byte tokens in merge order.
        List<String> merges = Files.readAllLines(dir.resolve("tokenizer/merges.txt"));
        assertEquals(512, bpe.vocab.get(merges.get(1).replace(" ", "")));
    }

    @Test
    void everyColourWordIsOneWholeWordToken() throws IOException {
        ClipBpe bpe = new ClipBpe(dir.resolve("tokenizer"));
        for (String word : BuiltinColors.COLORS.keySet()) {
            assertEquals(List.of(word + "</w>"), bpe.tokens(word), word);
            assertEquals(List.of(word + "</w>"), bpe.tokens(word.toUpperCase()), word);
        }
        assertEquals(List.of("a</w>", "red</w>", "c", "a", "t</w>", ",</w>", "blue</w>"), bpe.tokens("A red cat, BLUE"));
        // Colour words only count as whole words.
        assertFalse(bpe.tokens("reddish").contains("red</w>"));
        assertFalse(bpe.tokens("greenery bluer").stream().anyMatch(t -> t.equals("green</w>") || t.equals("blue</w>")));
        int[] ids = bpe.inputIds("red");
        assertEquals(bpe.vocab.get("<|startoftext|>"), ids[0]);
        assertEquals(bpe.vocab.get("red</w>"), ids[1]);
        assertEquals(bpe.vocab.get("<|endoftext|>"), ids[2]);
        assertEquals(bpe.vocab.get("<|endoftext|>"), ids[76]);
    }

    static long totalSize(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static Map<String, byte[]> contents(Path root) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }
}
