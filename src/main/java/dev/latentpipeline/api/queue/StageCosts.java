package dev.latentpipeline.api.queue;

import dev.latentpipeline.pipeline.GenerationEvent.StageTiming;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.Stages;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * What each stage costs, from the stage records ({@code stages}) of the last {@value #KEPT} completed jobs in log order:
 * UNet milliseconds per loop step, VAE and text-encoder milliseconds per job, and how many steps a UNet turn lasts
 * (the longest segment that ended in a checkpoint hop). A job is priced from completed jobs of its own shape (size,
 * image count, guidance on or off) when there are some, else from all of them scaled by its latent pixels (UNet, twice
 * for guidance) or its pixels (VAE). Medians, so one job slowed by a hand-off or a rebalance does not move them.
 */
final class StageCosts {
    static final int KEPT = 50;

    /** What decides a job's cost per step: latent pixels times images, doubled by classifier-free guidance. */
    record Shape(int width, int height, int images, boolean guided) {
        static Shape of(GenerationRequest r) {
            return new Shape(r.width(), r.height(), r.numImages(), r.guided());
        }

        double unetUnits() {
            return (double) images * (width / 8) * (height / 8) * (guided ? 2 : 1);
        }

        double pixels() {
            return (double) images * width * height;
        }
    }

    /** One completed job: its shape, UNet ms per step, VAE and text-encoder ms, and its longest turn (0: one). */
    record Sample(Shape shape, double unetMsPerStep, double vaeMs, double textMs, int longestHop) {
    }

    /** A job's expected costs. */
    record Estimate(double unetMsPerStep, double vaeMs, double textMs) {
    }

    private final Deque<Sample> samples = new ArrayDeque<>();

    /** Records a completed job; jobs without UNet step records (older events, failures) teach nothing. */
    synchronized void completed(GenerationRequest request, List<StageTiming> stages) {
        if (request == null || stages == null) {
            return;
        }
        double unetMs = 0;
        int steps = 0;
        int longestHop = 0;
        double vaeMs = 0;
        double textMs = 0;
        List<StageTiming> unet = stages.stream().filter(s -> Stages.UNET.equals(s.stage())).toList();
        for (int i = 0; i < unet.size(); i++) {
            StageTiming segment = unet.get(i);
            if (segment.fromStep() == null || segment.toStep() == null) {
                return;
            }
            int length = segment.toStep() - segment.fromStep();
            unetMs += segment.durationMs();
            steps += length;
            if (i < unet.size() - 1) {
                longestHop = Math.max(longestHop, length);
            }
        }
        for (StageTiming s : stages) {
            if (Stages.VAE.equals(s.stage())) {
                vaeMs += s.durationMs();
            } else if (Stages.TEXT_ENCODER.equals(s.stage())) {
                textMs += s.durationMs();
            }
        }
        if (steps == 0) {
            return;
        }
        samples.addLast(new Sample(Shape.of(request), unetMs / steps, vaeMs, textMs, longestHop));
        if (samples.size() > KEPT) {
            samples.removeFirst();
        }
    }

    /** Empty until a job has completed. */
    synchronized Optional<Estimate> estimate(GenerationRequest request) {
        if (samples.isEmpty()) {
            return Optional.empty();
        }
        Shape shape = Shape.of(request);
        List<Sample> same = samples.stream().filter(s -> s.shape().equals(shape)).toList();
        double unet;
        double vae;
        if (!same.isEmpty()) {
            unet = median(same, Sample::unetMsPerStep);
            vae = median(same, Sample::vaeMs);
        } else {
            List<Sample> all = List.copyOf(samples);
            unet = median(all, s -> s.unetMsPerStep() / s.shape().unetUnits()) * shape.unetUnits();
            vae = median(all, s -> s.vaeMs() / s.shape().pixels()) * shape.pixels();
        }
        return Optional.of(new Estimate(unet, vae, median(List.copyOf(samples), Sample::textMs)));
    }

    /**
     * Steps a UNet worker runs before it hands a job on and takes the next one (sd.unet.checkpoint-every, as the hops
     * of recent jobs show it); 0 when no recent job hopped: loops run whole, first come first served.
     */
    synchronized int stepsPerTurn() {
        return samples.stream().mapToInt(Sample::longestHop).max().orElse(0);
    }

    private static double median(List<Sample> of, ToDoubleFunction<Sample> value) {
        double[] values = of.stream().mapToDouble(value).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /** Loop steps a job not yet started will run: its steps, fewer for img2img (diffusers: int(steps * strength)). */
    static int expectedSteps(GenerationRequest request) {
        if (request.imageToImage()) {
            return Math.max(1, (int) (request.steps() * request.strength()));
        }
        return request.steps();
    }

    @Override
    public synchronized String toString() {
        return Arrays.toString(samples.toArray());
    }
}
