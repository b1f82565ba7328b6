package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.model.builtin.BuiltinModel.Precision;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SDXL folder: optimum's layout, the configs the pipeline reads, external data, determinism. */
class BuiltinSdxlFilesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    @BeforeAll
    static void generate() throws IOException {
        BuiltinModel.writeTo(dir, Variant.SDXL);
    }

    @Test
    void hasOptimumsSdxlLayout() throws IOException {
        for (String file : List.of("model_index.json", "scheduler/scheduler_config.json",
                "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
                "tokenizer/tokenizer_config.json", "tokenizer_2/vocab.json", "tokenizer_2/merges.txt",
                "tokenizer_2/special_tokens_map.json", "tokenizer_2/tokenizer_config.json",
                "text_encoder/model.onnx", "text_encoder/config.json",
                "text_encoder_2/model.onnx", "text_encoder_2/model.onnx_data", "text_encoder_2/config.json",
                "unet/model.onnx", "unet/model.onnx_data", "unet/config.json",
                "vae_decoder/model.onnx", "vae_decoder/config.json", "vae_encoder/model.onnx",
                "vae_encoder/config.json")) {
            assertTrue(Files.isRegularFile(dir.resolve(file)), file);
        }
        assertFalse(Files.exists(dir.resolve("text_encoder/model.onnx_data")), "text_encoder stays inline");
        assertTrue(BuiltinModelFilesTest.totalSize(dir) < 256 * 1024, "total " + BuiltinModelFilesTest.totalSize(dir));
    }

    @Test
    void modelIndexIsAnOrtSdxlPipelinesWithForcedZerosForEmptyPrompts() throws IOException {
        JsonNode index = JSON.readTree(dir.resolve("model_index.json").toFile());
        assertEquals("ORTStableDiffusionXLPipeline", index.get("_class_name").asText());
        assertTrue(index.get("force_zeros_for_empty_prompt").asBoolean());
        for (String part : List.of("text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder")) {
            assertEquals(List.of("diffusers", "OnnxRuntimeModel"), strings(index.get(part)), part);
        }
        for (String part : List.of("tokenizer", "tokenizer_2")) {
            assertEquals(List.of("transformers", "CLIPTokenizer"), strings(index.get(part)), part);
        }
        assertEquals(List.of("diffusers", "EulerDiscreteScheduler"), strings(index.get("scheduler")));
    }

    @Test
    void schedulerIsSdxlBasesEuler() throws IOException {
        JsonNode s = JSON.readTree(dir.resolve("scheduler/scheduler_config.json").toFile());
        assertEquals("EulerDiscreteScheduler", s.get("_class_name").asText());
        assertEquals(0.00085, s.get("beta_start").asDouble());
        assertEquals(0.012, s.get("beta_end").asDouble());
        assertEquals("scaled_linear", s.get("beta_schedule").asText());
        assertEquals(1000, s.get("num_train_timesteps").asInt());
        assertEquals("leading", s.get("timestep_spacing").asText());
        assertEquals(1, s.get("steps_offset").asInt());
        assertEquals("linear", s.get("interpolation_type").asText());
        assertFalse(s.get("use_karras_sigmas").asBoolean());
        assertEquals("epsilon", s.get("prediction_type").asText());
    }

    @Test
    void modelConfigsGiveWhatThePipelineReads() throws IOException {
        JsonNode te1 = JSON.readTree(dir.resolve("text_encoder/config.json").toFile());
        assertEquals("CLIPTextModel", te1.get("architectures").get(0).asText());
        assertEquals(32, te1.get("hidden_size").asInt());
        assertEquals(2, te1.get("num_hidden_layers").asInt());
        assertTrue(te1.get("output_hidden_states").asBoolean());
        JsonNode te2 = JSON.readTree(dir.resolve("text_encoder_2/config.json").toFile());
        assertEquals("CLIPTextModelWithProjection", te2.get("architectures").get(0).asText());
        assertEquals(48, te2.get("hidden_size").asInt());
        assertEquals(3, te2.get("num_hidden_layers").asInt());
        assertEquals(40, te2.get("projection_dim").asInt());

        JsonNode unet = JSON.readTree(dir.resolve("unet/config.json").toFile());
        assertEquals("text_time", unet.get("addition_embed_type").asText());
        assertEquals(80, unet.get("cross_attention_dim").asInt());
        assertEquals(128, unet.get("sample_size").asInt());
        // diffusers' check in _get_add_time_ids: addition_time_embed_dim * 6 + projection_dim.
        assertEquals(unet.get("addition_time_embed_dim").asInt() * 6 + 40,
                unet.get("projection_class_embeddings_input_dim").asInt());
        assertTrue(unet.get("time_cond_proj_dim").isNull());

        for (String part : List.of("vae_decoder", "vae_encoder")) {
            JsonNode vae = JSON.readTree(dir.resolve(part + "/config.json").toFile());
            assertEquals(0.13025, vae.get("scaling_factor").asDouble(), part);
            assertTrue(vae.get("force_upcast").asBoolean(), part);
            assertEquals(4, vae.get("block_out_channels").size(), part + ": vae_scale_factor 2^(4-1) = 8");
            assertEquals(4, vae.get("latent_channels").asInt(), part);
        }
    }

    @Test
    void tokenizer2PadsWithExclamationMarkIdZero() throws IOException {
        for (String file : List.of("special_tokens_map.json", "tokenizer_config.json")) {
            assertEquals("!", JSON.readTree(dir.resolve("tokenizer_2/" + file).toFile()).get("pad_token").asText());
            assertEquals("<|endoftext|>",
                    JSON.readTree(dir.resolve("tokenizer/" + file).toFile()).get("pad_token").asText());
        }
        assertEquals(0, new ClipBpe(dir.resolve("tokenizer_2")).vocab.get("!"));
        assertArrayEquals(Files.readAllBytes(dir.resolve("tokenizer/vocab.json")),
                Files.readAllBytes(dir.resolve("tokenizer_2/vocab.json")), "one vocabulary, as SDXL's two are");
    }

    @Test
    void largeInitializersLiveInModelOnnxDataLikeOptimumSavesThem() throws IOException {
        for (String part : List.of("unet", "text_encoder_2")) {
            ModelProto model = ModelProto.parseFrom(Files.readAllBytes(dir.resolve(part + "/model.onnx")));
            long dataSize = Files.size(dir.resolve(part + "/model.onnx_data"));
            long next = 0;
            int external = 0;
            for (TensorProto t : model.getGraph().getInitializerList()) {
                if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
                    assertTrue(t.getRawData().size() < 1024, part + ": " + t.getName() + " should be external");
                    continue;
                }
                external++;
                Map<String, String> entries = new HashMap<>();
                for (StringStringEntryProto e : t.getExternalDataList()) {
                    entries.put(e.getKey(), e.getValue());
                }
                assertEquals("model.onnx_data", entries.get("location"), t.getName());
                assertEquals(next, Long.parseLong(entries.get("offset")), t.getName() + ": offsets follow each other");
                long length = Long.parseLong(entries.get("length"));
                assertTrue(length >= 1024, t.getName());
                assertEquals(0, t.getRawData().size(), t.getName());
                next += length;
            }
            assertTrue(external > 0, part);
            assertEquals(dataSize, next, part + ": the data file is exactly the external tensors");
        }
    }

    @Test
    void textEmbedsKeepsOptimumsDynamicAxisNames() throws IOException {
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("text_encoder_2/model.onnx")));
        ValueInfoProto textEmbeds = model.getGraph().getOutput(0);
        assertEquals("text_embeds", textEmbeds.getName());
        List<String> dims = textEmbeds.getType().getTensorType().getShape().getDimList().stream()
                .map(d -> d.getDimParam()).toList();
        assertEquals(List.of("batch_size", "sequence_length"), dims, "optimum's {0: batch_size, 1: sequence_length}");
    }

    @Test
    void aModelWithExternalDataLoadsOnlyBesideItsDataFile(@TempDir Path elsewhere) throws IOException, OrtException {
        OrtCalls.open(dir.resolve("unet/model.onnx")).close();
        Files.copy(dir.resolve("unet/model.onnx"), elsewhere.resolve("model.onnx"));
        assertThrows(OrtException.class, () -> OrtCalls.open(elsewhere.resolve("model.onnx")).close());
    }

    @Test
    void everySdxlVariantIsByteIdenticalOnEveryRun(@TempDir Path first, @TempDir Path second) throws IOException {
        List<Variant> variants = List.of(Variant.SDXL, Variant.SDXL.withPrecision(Precision.FP16),
                Variant.SDXL.withPrecision(Precision.FP16_WITH_FP32_VAE), Variant.SDXL.withVPrediction(),
                Variant.SDXL.withGuidanceEmbedding().withLcmScheduler(),
                Variant.STANDARD.withGuidanceEmbedding().withLcmScheduler());
        for (int i = 0; i < variants.size(); i++) {
            BuiltinModel.writeTo(first.resolve("v" + i), variants.get(i));
            BuiltinModel.writeTo(second.resolve("v" + i), variants.get(i));
            Map<String, byte[]> a = contents(first.resolve("v" + i));
            Map<String, byte[]> b = contents(second.resolve("v" + i));
            assertEquals(a.keySet(), b.keySet());
            for (String name : a.keySet()) {
                assertArrayEquals(a.get(name), b.get(name), variants.get(i) + " " + name);
            }
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("unet/model.onnx")),
                Files.readAllBytes(first.resolve("v0/unet/model.onnx")));
    }

    @Test
    void guidanceEmbeddingVariantsDeclareTimeCondProjDimAndOfferLcmScheduler(@TempDir Path out) throws IOException {
        BuiltinModel.writeTo(out.resolve("xl"), Variant.SDXL.withGuidanceEmbedding().withLcmScheduler());
        BuiltinModel.writeTo(out.resolve("sd"), Variant.STANDARD.withGuidanceEmbedding());
        BuiltinModel.writeTo(out.resolve("sd-lcm"), Variant.STANDARD.withGuidanceEmbedding().withLcmScheduler());
        for (String v : List.of("xl", "sd")) {
            assertEquals(256, JSON.readTree(out.resolve(v + "/unet/config.json").toFile())
                    .get("time_cond_proj_dim").asInt(), v);
        }
        assertEquals("ORTStableDiffusionXLPipeline",
                JSON.readTree(out.resolve("xl/model_index.json").toFile()).get("_class_name").asText());
        assertEquals("ORTLatentConsistencyModelPipeline",
                JSON.readTree(out.resolve("sd/model_index.json").toFile()).get("_class_name").asText());
        assertEquals("PNDMScheduler", JSON.readTree(out.resolve("sd/scheduler/scheduler_config.json").toFile())
                .get("_class_name").asText());
        for (String v : List.of("xl", "sd-lcm")) {
            JsonNode s = JSON.readTree(out.resolve(v + "/scheduler/scheduler_config.json").toFile());
            assertEquals("LCMScheduler", s.get("_class_name").asText(), v);
            assertEquals(50, s.get("original_inference_steps").asInt(), v);
            assertEquals(10.0, s.get("timestep_scaling").asDouble(), v);
            assertTrue(s.get("set_alpha_to_one").asBoolean(), v);
            assertFalse(s.get("thresholding").asBoolean(), v);
            assertEquals("LCMScheduler", JSON.readTree(out.resolve(v + "/model_index.json").toFile())
                    .get("scheduler").get(1).asText(), v);
        }
    }

    private static List<String> strings(JsonNode array) {
        return List.of(array.get(0).asText(), array.get(1).asText());
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
