package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.denoise.scheduler.SchedulerConfig;
import dev.latentpipeline.denoise.scheduler.Schedulers;
import dev.latentpipeline.model.LatentScaling;
import dev.latentpipeline.model.ModelLayout;
import dev.latentpipeline.model.family.ModelFamilies;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.model.OnnxRuntime;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import dev.latentpipeline.text.ClipTokenizer;
import dev.latentpipeline.text.TextEncoder;
import dev.latentpipeline.denoise.img2img.LatentDistribution;
import dev.latentpipeline.vae.VaeDecoder;
import dev.latentpipeline.denoise.img2img.VaeEncoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The three stages' model code in one process, without Kafka or S3: the same classes the stages call (TextEncoder,
 * InitialLatents.start, DenoisingLoop, VaeDecoder), for checks that run many requests over several model variants.
 */
public final class LocalPipeline implements AutoCloseable {
    private final List<OnnxModel> open = new ArrayList<>();
    private final TextEncoder textEncoder;
    private final DenoisingLoop loop;
    private final VaeDecoder decoder;
    private final VaeEncoder encoder;
    private final SchedulerConfig schedulerConfig;
    private final ClipTokenizer tokenizer;

    public LocalPipeline(Path dir) {
        ModelLayout layout = ModelLayout.open(dir);
        OnnxRuntime runtime = new OnnxRuntime(OnnxRuntime.Provider.CPU, 0, 1);
        tokenizer = ClipTokenizer.load(layout.tokenizerDir());
        textEncoder = new TextEncoder(keep(runtime.open("text_encoder", layout.textEncoder())), tokenizer);
        loop = new DenoisingLoop(new UNet(keep(runtime.open("unet", layout.unet()))));
        LatentScaling scaling = ModelFamilies.detect(layout).latentScaling();
        decoder = new VaeDecoder(keep(runtime.open("vae_decoder", layout.vaeDecoder())), scaling);
        encoder = new VaeEncoder(keep(runtime.open("vae_encoder", layout.vaeEncoder())), scaling);
        schedulerConfig = SchedulerConfig.fromJson(layout.schedulerConfig());
    }

    private OnnxModel keep(OnnxModel model) {
        open.add(model);
        return model;
    }

    ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public static GenerationRequest request(String prompt, String negative, double guidance, String scheduler, int steps,
            long seed, int width, int height) {
        return new GenerationRequest("local", prompt, negative, width, height, steps, guidance, scheduler, seed, 1,
                null);
    }

    static GenerationRequest img2img(GenerationRequest r, double strength) {
        return new GenerationRequest(r.id(), r.prompt(), r.negativePrompt(), r.width(), r.height(), r.steps(),
                r.guidanceScale(), r.scheduler(), r.seed(), r.numImages(), null, null, "init.png", strength);
    }

    /** Image 0 of the request, [1, 3, H, W] in [-1, 1]; {@code initPixels} for img2img, {@code explicit} noise. */
    public FloatTensor generate(GenerationRequest request, FloatTensor initPixels, FloatTensor explicit) {
        long[] seeds = new long[request.numImages()];
        for (int k = 0; k < seeds.length; k++) {
            seeds[k] = request.seedOf(k);
        }
        PerImageNoise noise = new PerImageNoise(seeds);
        Scheduler scheduler = Schedulers.create(request.scheduler(), schedulerConfig, noise);
        RequestSchedule.set(scheduler, request);
        long[] shape = {request.numImages(), 4, request.height() / 8, request.width() / 8};
        LatentDistribution encoded = initPixels == null ? null : encoder.encode(initPixels);
        StartLatents start = InitialLatents.start(request, scheduler, noise, shape, explicit, encoded);
        FloatTensor prompt = textEncoder.encode(request.prompt()).embeddings();
        FloatTensor negative = request.guided() ? textEncoder.encode(request.negativePrompt() == null ? ""
                : request.negativePrompt()).embeddings() : null;
        FloatTensor latents = loop.run(new DenoisingLoop.Inputs(start, prompt, negative,
                (float) request.guidanceScale()), scheduler, (done, total) -> true);
        return decoder.decode(Tensors.slice(latents, 0, 1));
    }

    @Override
    public void close() {
        open.forEach(OnnxModel::close);
    }
}
