package dev.latentpipeline.model.builtin;

import dev.latentpipeline.model.builtin.BuiltinModel.Variant;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.latentpipeline.model.builtin.BuiltinModel.HIDDEN_SIZE;
import static dev.latentpipeline.model.builtin.BuiltinModel.MAX_LENGTH;

/** The SD 1.x form: diffusers' OnnxStableDiffusionPipeline layout with one text encoder. */
final class SdExport {
    /** SD 2.x's tokenizer pads with "!" (id 0) instead of the end-of-text token. */
    static final String SD2_PAD_TOKEN = "!";

    private SdExport() {
    }

    static void write(Path dir, Variant variant, float[][] encode, float[][] decode) throws IOException {
        BuiltinTokenizer tokenizer = BuiltinTokenizer.create(BuiltinColors.COLORS.keySet());
        ExportFiles.tokenizer(dir.resolve("tokenizer"), tokenizer,
                variant.vPrediction() ? SD2_PAD_TOKEN : BuiltinTokenizer.EOS);
        boolean fp16 = variant.precision().fp16Models();
        boolean fp16Vae = variant.precision().fp16Vae();

        List<Long> ids = new ArrayList<>();
        List<float[]> rgb = new ArrayList<>();
        BuiltinColors.COLORS.forEach((word, c) -> {
            ids.add((long) tokenizer.id(word + BuiltinTokenizer.END_OF_WORD));
            rgb.add(new float[] {c.r(), c.g(), c.b()});
        });
        ExportFiles.model(dir.resolve("text_encoder/model.onnx"), fp16, TextEncoderGraph.build(
                ids.stream().mapToLong(Long::longValue).toArray(), rgb.toArray(float[][]::new),
                BuiltinColors.NO_COLOR, HIDDEN_SIZE, MAX_LENGTH));
        ExportFiles.model(dir.resolve("unet/model.onnx"), fp16, UnetGraph.build(encode,
                BuiltinModel.VAE_SCALING_FACTOR, NoiseSchedule.sigmas(), HIDDEN_SIZE, MAX_LENGTH,
                variant.vPrediction(), variant.guidanceEmbedding()));
        VaeGraphs.writeAll(dir, fp16Vae, encode, decode, BuiltinModel.VAE_SCALING_FACTOR, variant.latentParameters());
        writeConfigs(dir, tokenizer.vocab().size(), variant);
    }

    private static void writeConfigs(Path dir, int vocabSize, Variant variant) throws IOException {
        Map<String, Object> scheduler = variant.lcmScheduler()
                ? SchedulerConfigs.lcm(variant.predictionType()) : SchedulerConfigs.pndm(variant.predictionType());
        Map<String, Object> index = new LinkedHashMap<>();
        // optimum's ORT pipelines save their own class name; an LCM UNet makes it the LCM pipeline.
        index.put("_class_name", variant.guidanceEmbedding()
                ? "ORTLatentConsistencyModelPipeline" : "OnnxStableDiffusionPipeline");
        index.put("_diffusers_version", ExportFiles.DIFFUSERS_VERSION);
        index.put("feature_extractor", Arrays.asList(null, null));
        index.put("requires_safety_checker", false);
        index.put("safety_checker", Arrays.asList(null, null));
        index.put("scheduler", List.of("diffusers", scheduler.get("_class_name")));
        index.put("text_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("tokenizer", List.of("transformers", "CLIPTokenizer"));
        index.put("unet", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("vae_decoder", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("vae_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        ExportFiles.json(dir.resolve("model_index.json"), index);
        ExportFiles.json(dir.resolve("scheduler/scheduler_config.json"), scheduler);

        Map<String, Object> textEncoder = new LinkedHashMap<>();
        textEncoder.put("architectures", List.of("CLIPTextModel"));
        textEncoder.put("hidden_size", HIDDEN_SIZE);
        textEncoder.put("max_position_embeddings", MAX_LENGTH);
        textEncoder.put("model_type", "clip_text_model");
        textEncoder.put("vocab_size", vocabSize);
        ExportFiles.json(dir.resolve("text_encoder/config.json"), textEncoder);

        Map<String, Object> unet = new LinkedHashMap<>();
        unet.put("_class_name", "UNet2DConditionModel");
        unet.put("_diffusers_version", ExportFiles.DIFFUSERS_VERSION);
        unet.put("cross_attention_dim", HIDDEN_SIZE);
        unet.put("in_channels", 4);
        unet.put("out_channels", 4);
        unet.put("sample_size", 64);
        if (variant.guidanceEmbedding()) {
            unet.put("time_cond_proj_dim", GuidanceEmbeddingGraph.DIM);
        }
        ExportFiles.json(dir.resolve("unet/config.json"), unet);

        for (String part : List.of("vae_decoder", "vae_encoder")) {
            Map<String, Object> vae = new LinkedHashMap<>();
            vae.put("_class_name", "AutoencoderKL");
            vae.put("_diffusers_version", ExportFiles.DIFFUSERS_VERSION);
            vae.put("in_channels", 3);
            vae.put("latent_channels", 4);
            vae.put("out_channels", 3);
            vae.put("sample_size", 64 * VaeGraphs.FACTOR);
            vae.put("scaling_factor", 0.18215);
            ExportFiles.json(dir.resolve(part + "/config.json"), vae);
        }
    }
}
