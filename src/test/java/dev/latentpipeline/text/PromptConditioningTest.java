package dev.latentpipeline.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.model.ModelLayout;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.model.OnnxRuntime;
import dev.latentpipeline.model.builtin.BuiltinModel;
import dev.latentpipeline.model.builtin.BuiltinModel.Precision;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.model.family.Conditioning;
import dev.latentpipeline.model.family.ModelFamilies;
import dev.latentpipeline.model.family.ModelFamily;
import dev.latentpipeline.model.family.TextEncoderSpec;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.tensor.FloatTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The text stage's conditioning on the built-in model's real ONNX encoders, read back through the features the
 * README documents: text_encoder puts a prompt's (r, g, b) in features 0-2 and a marker in feature 3 of its
 * penultimate layer only; text_encoder_2 puts (b, r, g) in features 0-2 and its marker in feature 4, so in the
 * concatenation (text_encoder's 32 features first) they sit at 32-34 and 36; text_embeds is (r, g, b, 1, 0...).
 * A wrong order, layer, pooled output or negative side each shows as a different number.
 */
class PromptConditioningTest {
    private static final List<OnnxModel> OPEN = new ArrayList<>();
    private static PromptConditioning sdxl;
    private static PromptConditioning sdxlLcm;
    private static PromptConditioning sd;

    @TempDir
    static Path dir;

    @BeforeAll
    static void open() throws IOException {
        sdxl = conditioning(dir.resolve("xl"), Variant.SDXL.withPrecision(Precision.FP16_WITH_FP32_VAE));
        sdxlLcm = conditioning(dir.resolve("xl-lcm"), Variant.SDXL.withGuidanceEmbedding());
        sd = conditioning(dir.resolve("sd"), Variant.STANDARD);
    }

    /** The encoders as the text stage opens them: the family's specs, tokenizers and outputs. */
    static PromptConditioning conditioning(Path folder, Variant variant) throws IOException {
        BuiltinModel.writeTo(folder, variant);
        ModelLayout layout = ModelLayout.open(folder);
        ModelFamily family = ModelFamilies.detect(layout);
        OnnxRuntime runtime = new OnnxRuntime(OnnxRuntime.Provider.CPU, 0, 1);
        List<TextEncoder> encoders = new ArrayList<>();
        for (TextEncoderSpec spec : family.textEncoders()) {
            OnnxModel model = runtime.open(spec.folder(), layout.model(spec.folder()));
            OPEN.add(model);
            ClipTokenizer tokenizer = ClipTokenizer.load(layout.folder(spec.tokenizerFolder()));
            encoders.add(new TextEncoder(model, spec.specialTokens() == TextEncoderSpec.SpecialTokens.HUGGING_FACE
                    ? tokenizer.withSpecialTokensSplit() : tokenizer, spec));
        }
        return new PromptConditioning(family, encoders);
    }

    @AfterAll
    static void close() {
        OPEN.forEach(OnnxModel::close);
    }

    private static GenerationRequest request(String prompt, String prompt2, String negative, double guidance) {
        return new GenerationRequest("r", prompt, negative, 64, 48, 4, guidance, "euler", 1, 1, null, null, null,
                null, prompt2, null, null, null, null, null, null, null);
    }

    /** Features [from, to) of position 0 of a [1, 77, w] tensor, or of a [1, w] one. */
    private static float[] features(FloatTensor t, int from, int to) {
        float[] out = new float[to - from];
        System.arraycopy(t.data(), from, out, 0, out.length);
        return out;
    }

    @Test
    void bothPenultimateStatesConcatenatedTextEncoderFirstAndPooledFromTextEncoder2() {
        Map<String, FloatTensor> t = sdxl.encode(request("red", "green", null, 1)).tensors();
        FloatTensor hidden = t.get(Conditioning.PROMPT_EMBEDS);
        assertArrayEquals(new long[] {1, 77, 80}, hidden.shape());
        // text_encoder's penultimate layer: red and its marker.
        assertArrayEquals(new float[] {1, 0, 0, 1}, features(hidden, 0, 4));
        // text_encoder_2's penultimate layer on prompt_2 (green = (b, r, g) = (0, 0, 1)), marker in feature 4.
        assertArrayEquals(new float[] {0, 0, 1, 0, 1}, features(hidden, 32, 37));
        // Every position carries it, the last one too.
        assertArrayEquals(new float[] {1, 0, 0, 1}, features(hidden, 76 * 80, 76 * 80 + 4));
        FloatTensor pooled = t.get(Conditioning.POOLED_PROMPT_EMBEDS);
        assertArrayEquals(new long[] {1, 40}, pooled.shape());
        assertArrayEquals(new float[] {0, 1, 0, 1, 0}, features(pooled, 0, 5));
        // Guidance 1: no unconditional side at all.
        assertNull(t.get(Conditioning.NEGATIVE_PROMPT_EMBEDS));
        assertNull(t.get(Conditioning.NEGATIVE_ADD_TIME_IDS));
        assertArrayEquals(new float[] {48, 64, 0, 0, 48, 64}, t.get(Conditioning.ADD_TIME_IDS).data());
    }

    @Test
    void prompt2FallsBackToThePrompt() {
        FloatTensor hidden = sdxl.encode(request("blue", "", null, 1)).tensors().get(Conditioning.PROMPT_EMBEDS);
        assertArrayEquals(new float[] {1, 0, 0, 0, 1}, features(hidden, 32, 37), "blue's (b, r, g)");
    }

    @Test
    void noNegativePromptIsZeroConditioningAndAnEmptyOneIsEncoded() {
        Map<String, FloatTensor> absent = sdxl.encode(request("red", null, null, 5)).tensors();
        for (String name : List.of(Conditioning.NEGATIVE_PROMPT_EMBEDS, Conditioning.NEGATIVE_POOLED_PROMPT_EMBEDS)) {
            FloatTensor zeros = absent.get(name);
            assertArrayEquals(absent.get(name.replace("negative_", "")).shape(), zeros.shape(), name);
            for (float v : zeros.data()) {
                assertEquals(0f, v, name);
            }
        }
        assertArrayEquals(new float[] {48, 64, 0, 0, 48, 64}, absent.get(Conditioning.NEGATIVE_ADD_TIME_IDS).data());
        Map<String, FloatTensor> empty = sdxl.encode(request("red", null, "", 5)).tensors();
        // "" has no colour words: mid-grey, with both markers, like any prompt.
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 1}, features(empty.get(Conditioning.NEGATIVE_PROMPT_EMBEDS),
                0, 4));
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0, 1},
                features(empty.get(Conditioning.NEGATIVE_PROMPT_EMBEDS), 32, 37));
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 1},
                features(empty.get(Conditioning.NEGATIVE_POOLED_PROMPT_EMBEDS), 0, 4));
    }

    @Test
    void aGuidanceEmbeddingUnetGetsNoUnconditionalSideAndSaysTheNegativePromptIsUnused() {
        PromptConditioning.Encoded encoded = sdxlLcm.encode(request("red", null, "blue", 8));
        assertNull(encoded.tensors().get(Conditioning.NEGATIVE_PROMPT_EMBEDS));
        assertNull(encoded.tensors().get(Conditioning.NEGATIVE_POOLED_PROMPT_EMBEDS));
        assertNull(encoded.tensors().get(Conditioning.NEGATIVE_ADD_TIME_IDS));
        assertTrue(encoded.warnings().stream().anyMatch(w -> w.contains("negative_prompt has no effect")),
                encoded.warnings()::toString);
    }

    @Test
    void sdTakesLastHiddenStateAndEncodesEmptyForAnAbsentNegativePrompt() {
        PromptConditioning.Encoded encoded = sd.encode(request("red", null, null, 5));
        assertEquals(List.of(Conditioning.PROMPT_EMBEDS, Conditioning.NEGATIVE_PROMPT_EMBEDS),
                List.copyOf(encoded.tensors().keySet()));
        assertArrayEquals(new long[] {1, 77, 32}, encoded.tensors().get(Conditioning.PROMPT_EMBEDS).shape());
        assertArrayEquals(new float[] {1, 0, 0}, features(encoded.tensors().get(Conditioning.PROMPT_EMBEDS), 0, 3));
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f},
                features(encoded.tensors().get(Conditioning.NEGATIVE_PROMPT_EMBEDS), 0, 3));
        assertTrue(encoded.warnings().isEmpty(), encoded.warnings()::toString);
    }

    @Test
    void truncationIsReportedOncePerField() {
        PromptConditioning.Encoded encoded = sdxl.encode(request("red ".repeat(100), null, null, 5));
        assertEquals(1, encoded.warnings().size(), encoded.warnings()::toString);
        assertTrue(encoded.warnings().get(0).startsWith("prompt was truncated"), encoded.warnings()::toString);
        PromptConditioning.Encoded both = sdxl.encode(request("red ".repeat(100), "blue ".repeat(90), null, 5));
        assertEquals(2, both.warnings().size(), both.warnings()::toString);
        assertTrue(both.warnings().get(1).startsWith("prompt 2 was truncated"), both.warnings()::toString);
    }
}
