package dev.latentpipeline.model.family;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.model.ModelLayout;
import dev.latentpipeline.model.builtin.BuiltinModel;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.pipeline.GenerationRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Family detection from the export's files alone (model_index.json's _class_name, the folders, the configs) and the
 * facts each family reads from them. The folders here hold only JSON: detection never opens a model.
 */
class ModelFamiliesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path export(String className, String... folders) throws IOException {
        if (className != null) {
            json("model_index.json", Map.of("_class_name", className));
        }
        for (String folder : folders) {
            Files.createDirectories(dir.resolve(folder));
        }
        return dir;
    }

    private void json(String file, Map<String, ?> content) throws IOException {
        Files.createDirectories(dir.resolve(file).getParent());
        JSON.writeValue(dir.resolve(file).toFile(), content);
    }

    private ModelFamily detect() {
        return ModelFamilies.detect(ModelLayout.open(dir));
    }

    @ParameterizedTest
    @ValueSource(strings = {"StableDiffusionXLPipeline", "ORTStableDiffusionXLPipeline",
        "StableDiffusionXLImg2ImgPipeline", "ORTStableDiffusionXLImg2ImgPipeline"})
    void sdxlClassNames(String className) throws IOException {
        export(className, "text_encoder", "text_encoder_2", "unet");
        assertEquals("SDXL", detect().name());
    }

    @ParameterizedTest
    @ValueSource(strings = {"StableDiffusionPipeline", "OnnxStableDiffusionPipeline", "ORTStableDiffusionPipeline",
        "StableDiffusionImg2ImgPipeline", "OnnxStableDiffusionImg2ImgPipeline", "ORTStableDiffusionImg2ImgPipeline",
        "LatentConsistencyModelPipeline", "ORTLatentConsistencyModelPipeline",
        "LatentConsistencyModelImg2ImgPipeline", "ORTLatentConsistencyModelImg2ImgPipeline"})
    void sdClassNames(String className) throws IOException {
        export(className, "text_encoder", "unet");
        assertEquals("SD 1.x", detect().name());
    }

    @Test
    void withoutModelIndexTheLayoutDecides() throws IOException {
        export(null, "text_encoder", "unet");
        assertEquals("SD 1.x", detect().name());
        Files.createDirectories(dir.resolve("text_encoder_2"));
        assertEquals("SDXL", detect().name());
    }

    @Test
    void sdxlsTextTimeUnetWithoutModelIndexIsSdxl() throws IOException {
        export(null, "text_encoder", "text_encoder_2", "unet");
        Files.delete(dir.resolve("text_encoder_2"));
        json("unet/config.json", Map.of("addition_embed_type", "text_time"));
        // SDXL by its UNet, but without the second encoder it cannot run: a clear refusal, not SD 1.x.
        ModelException e = assertThrows(ModelException.class, this::detect);
        assertTrue(e.getMessage().contains("text_encoder_2"), e.getMessage());
    }

    @Test
    void sd2IsToldByItsWidthOrItsPadToken() throws IOException {
        export("StableDiffusionPipeline", "text_encoder", "unet", "tokenizer");
        json("unet/config.json", Map.of("cross_attention_dim", 1024));
        assertEquals("SD 2.x", detect().name());
        json("unet/config.json", Map.of("cross_attention_dim", 768));
        json("tokenizer/special_tokens_map.json", Map.of("pad_token", "!"));
        assertEquals("SD 1.x", detect().name(), "a 768-wide UNet is SD 1.x whatever its tokenizer pads with");
        Files.delete(dir.resolve("unet/config.json"));
        assertEquals("SD 2.x", detect().name(), "no configs: OpenCLIP's pad token tells");
        json("text_encoder/config.json", Map.of("hidden_size", 768));
        assertEquals("SD 1.x", detect().name());
    }

    @Test
    void theBuiltInVariantsAreTheirFamilies() throws IOException {
        BuiltinModel.writeTo(dir.resolve("sd"));
        BuiltinModel.writeTo(dir.resolve("v"), Variant.STANDARD.withVPrediction());
        BuiltinModel.writeTo(dir.resolve("xl"), Variant.SDXL);
        BuiltinModel.writeTo(dir.resolve("lcm"), Variant.STANDARD.withGuidanceEmbedding());
        BuiltinModel.writeTo(dir.resolve("xl-lcm"), Variant.SDXL.withGuidanceEmbedding());
        ModelFamily sd = ModelFamilies.detect(ModelLayout.open(dir.resolve("sd")));
        ModelFamily xl = ModelFamilies.detect(ModelLayout.open(dir.resolve("xl")));
        assertEquals("SD 1.x", sd.name());
        assertEquals("SD 2.x", ModelFamilies.detect(ModelLayout.open(dir.resolve("v"))).name());
        assertEquals("SDXL", xl.name());
        assertEquals(512, sd.defaultWidth());
        assertEquals(0.18215f, sd.latentScaling().scalingFactor());
        assertEquals(OptionalInt.empty(), sd.timeCondProjDim());
        // SDXL: sample_size 128 x 2^(4 blocks - 1).
        assertEquals(1024, xl.defaultWidth());
        assertEquals(1024, xl.defaultHeight());
        assertEquals(8, xl.vaeScaleFactor());
        assertEquals(0.13025f, xl.latentScaling().scalingFactor());
        assertTrue(xl.vaeForceUpcast());
        assertEquals(List.of("encoder_hidden_states", "text_embeds", "time_ids"),
                xl.unetInputs().stream().map(UnetInput::name).toList());
        assertEquals(2, xl.textEncoders().get(0).numHiddenLayers());
        assertEquals(3, xl.textEncoders().get(1).numHiddenLayers());
        assertEquals("text_embeds", xl.textEncoders().get(1).pooledOutput());
        assertNull(xl.textEncoders().get(0).pooledOutput());
        ModelFamily lcm = ModelFamilies.detect(ModelLayout.open(dir.resolve("lcm")));
        assertEquals("SD 1.x", lcm.name());
        assertEquals(OptionalInt.of(256), lcm.timeCondProjDim());
        assertEquals(OptionalInt.of(256), ModelFamilies.detect(ModelLayout.open(dir.resolve("xl-lcm")))
                .timeCondProjDim());
    }

    @Test
    void defaultsWhereTheExportHasNoConfigs() throws IOException {
        export("OnnxStableDiffusionPipeline", "text_encoder", "unet");
        ModelFamily sd = detect();
        assertEquals(512, sd.defaultWidth());
        assertEquals(8, sd.vaeScaleFactor());
        assertEquals(4, sd.latentChannels());
        assertEquals(0.18215f, sd.latentScaling().scalingFactor());
        Files.createDirectories(dir.resolve("text_encoder_2"));
        json("model_index.json", Map.of("_class_name", "StableDiffusionXLPipeline"));
        ModelFamily xl = detect();
        assertEquals(1024, xl.defaultWidth());
        assertEquals(0.13025f, xl.latentScaling().scalingFactor());
    }

    @Test
    void sizeAndScalingComeFromTheConfigs() throws IOException {
        export("StableDiffusionPipeline", "text_encoder", "unet");
        json("unet/config.json", Map.of("sample_size", 96, "cross_attention_dim", 1024, "in_channels", 4));
        json("vae_decoder/config.json", Map.of("block_out_channels", List.of(128, 256, 512, 512),
                "scaling_factor", 0.5, "latents_mean", List.of(1, 2, 3, 4), "latents_std", List.of(2, 2, 2, 2)));
        ModelFamily sd2 = detect();
        assertEquals("SD 2.x", sd2.name());
        assertEquals(768, sd2.defaultWidth());
        assertEquals(0.5f, sd2.latentScaling().scalingFactor());
        assertArrayEquals(new float[] {1, 2, 3, 4}, sd2.latentScaling().latentsMean());
        json("vae_decoder/config.json", Map.of("block_out_channels", List.of(64, 128, 256), "scaling_factor", 0.5));
        assertEquals(4, detect().vaeScaleFactor());
        assertEquals(384, detect().defaultWidth());
    }

    @Test
    void unknownPipelinesAndContradictionsAreRefusedClearly() throws IOException {
        export("FluxPipeline", "transformer");
        ModelException flux = assertThrows(ModelException.class, this::detect);
        assertTrue(flux.getMessage().contains("FluxPipeline") && flux.getMessage().contains("StableDiffusionXLPipeline"),
                flux.getMessage());
        json("model_index.json", Map.of("_class_name", "StableDiffusionPipeline"));
        Files.createDirectories(dir.resolve("text_encoder"));
        Files.createDirectories(dir.resolve("text_encoder_2"));
        assertTrue(assertThrows(ModelException.class, this::detect).getMessage().contains("text_encoder_2"));
        json("model_index.json", Map.of("_class_name", "StableDiffusionXLImg2ImgPipeline",
                "requires_aesthetics_score", true));
        assertTrue(assertThrows(ModelException.class, this::detect).getMessage().contains("refiner"));
        Files.delete(dir.resolve("text_encoder"));
        json("model_index.json", Map.of("_class_name", "StableDiffusionXLImg2ImgPipeline"));
        assertTrue(assertThrows(ModelException.class, this::detect).getMessage().contains("refiner"));
    }

    private static GenerationRequest request(String prompt, String prompt2, String negative, String negative2) {
        return new GenerationRequest("r", prompt, negative, 64, 64, 4, 5, "euler", 1, 1, null, null, null, null,
                prompt2, negative2, null, null, null, null, null, null);
    }

    private static List<String> texts(List<PromptText> prompts) {
        return prompts.stream().map(PromptText::text).toList();
    }

    @Test
    void sdxlPromptsFollowEncodePrompt() throws IOException {
        export("StableDiffusionXLPipeline", "text_encoder", "text_encoder_2");
        ModelFamily xl = detect();
        assertEquals(List.of("a", "a"), texts(xl.prompts(request("a", null, null, null))));
        assertEquals(List.of("a", "a"), texts(xl.prompts(request("a", "", null, null))), "prompt_2 or prompt");
        assertEquals(List.of("a", "b"), texts(xl.prompts(request("a", "b", null, null))));
        assertEquals("prompt_2", xl.prompts(request("a", "b", null, null)).get(1).field());
        // force_zeros_for_empty_prompt (default true): no negative_prompt at all means zeros, whatever _2 says.
        assertEquals(Optional.empty(), xl.negativePrompts(request("a", null, null, "n2")));
        assertEquals(List.of("", ""), texts(xl.negativePrompts(request("a", null, "", null)).orElseThrow()));
        assertEquals(List.of("n", "n"), texts(xl.negativePrompts(request("a", null, "n", "")).orElseThrow()));
        assertEquals(List.of("n", "m"), texts(xl.negativePrompts(request("a", null, "n", "m")).orElseThrow()));
        json("model_index.json", Map.of("_class_name", "StableDiffusionXLPipeline",
                "force_zeros_for_empty_prompt", false));
        ModelFamily noZeros = detect();
        assertEquals(List.of("", "m"), texts(noZeros.negativePrompts(request("a", null, null, "m")).orElseThrow()));
        assertEquals(List.of("", ""), texts(noZeros.negativePrompts(request("a", null, null, null)).orElseThrow()));
    }

    @Test
    void sdEncodesAnEmptyNegativePromptForAnAbsentOne() throws IOException {
        export("StableDiffusionPipeline", "text_encoder");
        ModelFamily sd = detect();
        assertEquals(List.of(""), texts(sd.negativePrompts(request("a", null, null, null)).orElseThrow()));
        assertEquals(List.of("n"), texts(sd.negativePrompts(request("a", null, "n", null)).orElseThrow()));
        assertTrue(sd.requestConditioning(request("a", null, null, null), true).isEmpty());
        assertTrue(sd.honouredFields().isEmpty());
        assertFalse(sd.unetInputs().isEmpty());
    }
}
