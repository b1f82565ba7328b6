package dev.latentpipeline.denoise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.denoise.scheduler.SchedulerConfig;
import dev.latentpipeline.denoise.scheduler.Schedulers;
import dev.latentpipeline.model.ModelLayout;
import dev.latentpipeline.model.family.Conditioning;
import dev.latentpipeline.model.family.ModelFamilies;
import dev.latentpipeline.model.family.ModelFamily;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.model.OnnxRuntime;
import dev.latentpipeline.model.builtin.BuiltinModel;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.testing.TinyExport;
import dev.latentpipeline.text.ClipTokenizer;
import dev.latentpipeline.text.TextEncoder;
import dev.latentpipeline.vae.PngImages;
import dev.latentpipeline.vae.VaeDecoder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job batched with others gives the same image as the same job alone, within 1/255 per pixel (ONNX Runtime may
 * round differently across batch sizes): every scheduler, guided and unguided, different guidance scales and step
 * counts, img2img included, all in one engine at once, each job checked against its own run alone. On the built-in
 * model and, where ../shared has it, on the tiny real-architecture SD 1.x export (real UNet graph shapes).
 */
class BatchedDenoisingTest {
    private static final int TOLERANCE = 1;

    /** One job's recipe: everything that makes its loop differ from the others'. */
    record Recipe(String prompt, String negative, double guidance, String scheduler, int steps, long seed,
            Double strength) {
    }

    private static List<Recipe> recipes() {
        List<Recipe> out = new ArrayList<>();
        String[] prompts = {"red", "orange cyan", "a blue square", "pink purple", "green"};
        int i = 0;
        for (String scheduler : Schedulers.NAMES) {
            String prompt = prompts[i % prompts.length];
            out.add(new Recipe(prompt, "", 7.5, scheduler, 6 + i % 5, 10 + i, null));
            out.add(new Recipe(prompt, "grey", 1.0, scheduler, 9 - i % 3, 40 + i, null));
            out.add(new Recipe(prompts[(i + 2) % prompts.length], "yellow", 2.5, scheduler, 8, 70 + i, 0.6));
            i++;
        }
        return out;
    }

    /** The model code the UNet stage runs, without the stage around it. */
    private static final class Models implements AutoCloseable {
        final List<OnnxModel> open = new ArrayList<>();
        final TextEncoder text;
        final UNet unet;
        final VaeDecoder decoder;
        final SchedulerConfig schedulerConfig;
        final ModelFamily family;

        Models(Path dir) {
            ModelLayout layout = ModelLayout.open(dir);
            family = ModelFamilies.detect(layout);
            OnnxRuntime runtime = new OnnxRuntime(OnnxRuntime.Provider.CPU, 0, 1);
            text = new TextEncoder(keep(runtime.open("text_encoder", layout.textEncoder())),
                    ClipTokenizer.load(layout.tokenizerDir()));
            unet = new UNet(keep(runtime.open("unet", layout.unet())));
            decoder = new VaeDecoder(keep(runtime.open("vae_decoder", layout.vaeDecoder())),
                    ModelFamilies.detect(layout).latentScaling());
            schedulerConfig = SchedulerConfig.fromJson(layout.schedulerConfig());
        }

        private OnnxModel keep(OnnxModel model) {
            open.add(model);
            return model;
        }

        @Override
        public void close() {
            open.forEach(OnnxModel::close);
        }
    }

    private static DenoisingJob job(Models models, Recipe r, int width, int height, Map<Recipe, FloatTensor> done) {
        GenerationRequest request = new GenerationRequest("b", r.prompt(), r.negative(), width, height, r.steps(),
                r.guidance(), r.scheduler(), r.seed(), 1, null, null, r.strength() == null ? null : "init.png",
                r.strength());
        PerImageNoise noise = new PerImageNoise(new long[] {r.seed()});
        Scheduler scheduler = Schedulers.create(r.scheduler(), models.schedulerConfig, noise);
        RequestSchedule.set(scheduler, request);
        long[] shape = {1, 4, height / 8, width / 8};
        StartLatents start;
        if (r.strength() == null) {
            start = StartLatents.fromNoise(noise.initialLatents(shape), scheduler);
        } else {
            // img2img from a clean latent of a fixed pattern: what matters is that it starts part-way.
            FloatTensor clean = FloatTensor.zeros(shape);
            for (int k = 0; k < clean.data().length; k++) {
                clean.data()[k] = (float) Math.sin(k * 0.37) * 0.5f;
            }
            start = StartLatents.fromImage(clean, noise.initialLatents(shape), scheduler, r.steps(), r.strength());
        }
        Map<String, FloatTensor> wire = new HashMap<>();
        wire.put(Conditioning.PROMPT_EMBEDS, models.text.encode(r.prompt()).embeddings());
        if (request.guided()) {
            wire.put(Conditioning.NEGATIVE_PROMPT_EMBEDS, models.text.encode(r.negative()).embeddings());
        }
        ModelFamily family = models.family;
        return new DenoisingJob("b", new RunToTheEnd(), scheduler, noise, start, request.guided(),
                (float) r.guidance(), UnetConditioning.rows(family.unetInputs(), family.timeCondProjDim(), wire,
                        request.guided(), r.guidance(), 1), e -> e,
                finished -> done.put(r, finished.latents()), j -> List.of());
    }

    private static Map<Recipe, BufferedImage> run(Models models, List<Recipe> recipes, int width, int height,
            boolean together) {
        Map<Recipe, FloatTensor> latents = new HashMap<>();
        List<Integer> batchSizes = new ArrayList<>();
        if (together) {
            DenoisingEngine engine = new DenoisingEngine(models.unet, recipes.size(), "test");
            List<DenoisingJob> jobs = new ArrayList<>();
            for (Recipe r : recipes) {
                DenoisingJob job = job(models, r, width, height, latents);
                jobs.add(job);
                assertTrue(engine.tryReserve());
                engine.add(job);
            }
            engine.runUntilIdle();
            jobs.forEach(j -> batchSizes.add(j.largestBatch));
            assertTrue(batchSizes.stream().allMatch(b -> b > 1), "every job shared a call: " + batchSizes);
        } else {
            for (Recipe r : recipes) {
                DenoisingEngine engine = new DenoisingEngine(models.unet, 1, "test");
                engine.tryReserve();
                engine.add(job(models, r, width, height, latents));
                engine.runUntilIdle();
            }
        }
        Map<Recipe, BufferedImage> images = new HashMap<>();
        latents.forEach((r, l) -> images.put(r, PngImages.toRgb(models.decoder.decode(l))));
        assertEquals(recipes.size(), images.size(), "every job finished");
        return images;
    }

    private static void assertSameImages(Path dir, int width, int height) {
        List<Recipe> recipes = recipes();
        try (Models models = new Models(dir)) {
            Map<Recipe, BufferedImage> alone = run(models, recipes, width, height, false);
            Map<Recipe, BufferedImage> batched = run(models, recipes, width, height, true);
            int distinct = 0;
            for (Recipe r : recipes) {
                int worst = largestDifference(alone.get(r), batched.get(r));
                assertTrue(worst <= TOLERANCE, r + ": batched differs from alone by " + worst + "/255");
                for (Recipe other : recipes) {
                    distinct += other != r && largestDifference(alone.get(r), alone.get(other)) > TOLERANCE ? 1 : 0;
                }
            }
            // The check can fail: the jobs' own images differ from one another, so rows mixed up between jobs show.
            assertTrue(distinct > recipes.size(), "the recipes' images are too alike to tell jobs apart");
        }
    }

    static int largestDifference(BufferedImage a, BufferedImage b) {
        int worst = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    worst = Math.max(worst, Math.abs(((p >> shift) & 0xFF) - ((q >> shift) & 0xFF)));
                }
            }
        }
        return worst;
    }

    @Test
    void onTheBuiltinModel(@TempDir Path dir) throws IOException {
        BuiltinModel.writeTo(dir);
        assertSameImages(dir, 64, 48);
    }

    @Test
    void onTheTinyRealArchitectureExport(@TempDir Path dir) throws IOException {
        Path export = TinyExport.copyTo(dir);
        Assumptions.assumeTrue(export != null, TinyExport.MISSING);
        assertSameImages(export, 64, 64);
    }

    /** Runs every step; the job's result comes through its finish callback. */
    private static final class RunToTheEnd implements JobControl {
        @Override
        public StepAction beforeStart(int stepsDone, int totalSteps) {
            return StepAction.CONTINUE;
        }

        @Override
        public StepAction afterStep(int stepsDone, int totalSteps) {
            return StepAction.CONTINUE;
        }

        @Override
        public void finished(DenoisingStage.Denoised result) {
        }

        @Override
        public void checkpoint(Checkpoint checkpoint, boolean stopped) {
        }

        @Override
        public void cancelled(int stepsDone, int totalSteps) {
        }

        @Override
        public void failed(RuntimeException error) {
            throw error;
        }
    }
}
