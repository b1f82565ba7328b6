package dev.latentpipeline.model.builtin;

import dev.latentpipeline.model.builtin.BuiltinModel.Variant;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SDXL form in the layout optimum's ORTStableDiffusionXLPipeline saves: model_index.json with its class name and
 * OnnxRuntimeModel sub-models, two tokenizers and text encoders, each model folder with the config.json optimum
 * copies beside it, and the UNet and text_encoder_2 (the sub-models over 2 GB in the real SDXL) with their weights in
 * {@value ExternalData#LOCATION}.
 */
final class SdxlExport {
    /** SDXL's tokenizer_2 (OpenCLIP's) pads with "!" (id 0). */
    static final String PAD_TOKEN_2 = "!";

    private SdxlExport() {
    }

    static void write(Path dir, Variant variant, float[][] encode, float[][] decode) throws IOException {
        BuiltinTokenizer tokenizer = BuiltinTokenizer.create(BuiltinColors.COLORS.keySet());
        ExportFiles.tokenizer(dir.resolve("tokenizer"), tokenizer, BuiltinTokenizer.EOS);
        ExportFiles.tokenizer(dir.resolve("tokenizer_2"), tokenizer, PAD_TOKEN_2);
        boolean fp16 = variant.precision().fp16Models();
        boolean fp16Vae = variant.precision().fp16Vae();

        ExportFiles.model(dir.resolve("text_encoder/model.onnx"), fp16, SdxlTextEncoderGraphs.textEncoder(tokenizer));
        ExportFiles.modelWithExternalData(dir.resolve("text_encoder_2/model.onnx"), fp16,
                SdxlTextEncoderGraphs.textEncoder2(tokenizer));
        ExportFiles.modelWithExternalData(dir.resolve("unet/model.onnx"), fp16, SdxlUnetGraph.build(encode,
                NoiseSchedule.sigmas(), variant.vPrediction(), variant.guidanceEmbedding()));
        VaeGraphs.writeAll(dir, fp16Vae, encode, decode, (float) BuiltinSdxl.VAE_SCALING_FACTOR,
                variant.latentParameters());
        writeConfigs(dir, tokenizer.vocab().size(), variant);
    }

    private static void writeConfigs(Path dir, int vocabSize, Variant variant) throws IOException {
        Map<String, Object> scheduler = variant.lcmScheduler()
                ? SchedulerConfigs.lcm(variant.predictionType()) : SchedulerConfigs.euler(variant.predictionType());
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("_class_name", "ORTStableDiffusionXLPipeline");
        index.put("_diffusers_version", ExportFiles.DIFFUSERS_VERSION);
        index.put("force_zeros_for_empty_prompt", true);
        index.put("scheduler", List.of("diffusers", scheduler.get("_class_name")));
        index.put("text_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("text_encoder_2", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("tokenizer", List.of("transformers", "CLIPTokenizer"));
        index.put("tokenizer_2", List.of("transformers", "CLIPTokenizer"));
        index.put("unet", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("vae_decoder", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("vae_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        ExportFiles.json(dir.resolve("model_index.json"), index);
        ExportFiles.json(dir.resolve("scheduler/scheduler_config.json"), scheduler);

        String torchDtype = variant.precision().fp16Models() ? "float16" : "float32";
        ExportFiles.json(dir.resolve("text_encoder/config.json"), textEncoderConfig("CLIPTextModel",
                BuiltinSdxl.HIDDEN_SIZE, BuiltinSdxl.NUM_HIDDEN_LAYERS, BuiltinSdxl.HIDDEN_SIZE, torchDtype,
                vocabSize));
        ExportFiles.json(dir.resolve("text_encoder_2/config.json"), textEncoderConfig("CLIPTextModelWithProjection",
                BuiltinSdxl.HIDDEN_SIZE_2, BuiltinSdxl.NUM_HIDDEN_LAYERS_2, BuiltinSdxl.PROJECTION_DIM_2, torchDtype,
                vocabSize));

        Map<String, Object> unet = new LinkedHashMap<>();
        unet.put("_class_name", "UNet2DConditionModel");
        unet.put("_diffusers_version", ExportFiles.DIFFUSERS_VERSION);
        unet.put("addition_embed_type", "text_time");
        unet.put("addition_time_embed_dim", BuiltinSdxl.ADDITION_TIME_EMBED_DIM);
        unet.put("cross_attention_dim", BuiltinSdxl.CROSS_ATTENTION_DIM);
        unet.put("in_channels", 4);
        unet.put("out_channels", 4);
        unet.put("projection_class_embeddings_input_dim",
                BuiltinSdxl.TIME_IDS * BuiltinSdxl.ADDITION_TIME_EMBED_DIM + BuiltinSdxl.PROJECTION_DIM_2);
        unet.put("sample_size", BuiltinSdxl.SAMPLE_SIZE);
        unet.put("time_cond_proj_dim", variant.guidanceEmbedding() ? GuidanceEmbeddingGraph.DIM : null);
        ExportFiles.json(dir.resolve("unet/config.json"), unet);

        for (String part : List.of("vae_decoder", "vae_encoder")) {
            Map<String, Object> vae = new LinkedHashMap<>();
            vae.put("_class_name", "AutoencoderKL");
            vae.put("_diffusers_version", ExportFiles.DIFFUSERS_VERSION);
            // Four blocks: diffusers' vae_scale_factor = 2 ** (len(block_out_channels) - 1) = 8.
            vae.put("block_out_channels", List.of(128, 256, 512, 512));
            vae.put("down_block_types", Collections.nCopies(4, "DownEncoderBlock2D"));
            vae.put("force_upcast", true);
            vae.put("in_channels", 3);
            vae.put("latent_channels", 4);
            vae.put("out_channels", 3);
            vae.put("sample_size", BuiltinSdxl.SAMPLE_SIZE * VaeGraphs.FACTOR);
            vae.put("scaling_factor", BuiltinSdxl.VAE_SCALING_FACTOR);
            vae.put("up_block_types", Collections.nCopies(4, "UpDecoderBlock2D"));
            ExportFiles.json(dir.resolve(part + "/config.json"), vae);
        }
    }

    /** A CLIPTextConfig as transformers saves it (sorted keys), with optimum's output_hidden_states for SDXL. */
    private static Map<String, Object> textEncoderConfig(String architecture, int hidden, int layers, int projection,
            String torchDtype, int vocabSize) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of(architecture));
        config.put("hidden_size", hidden);
        config.put("max_position_embeddings", BuiltinTokenizer.MAX_LENGTH);
        config.put("model_type", "clip_text_model");
        config.put("num_hidden_layers", layers);
        config.put("output_hidden_states", true);
        config.put("projection_dim", projection);
        config.put("torch_dtype", torchDtype);
        config.put("vocab_size", vocabSize);
        return config;
    }
}
