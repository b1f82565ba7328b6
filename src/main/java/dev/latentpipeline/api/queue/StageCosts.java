package dev.latentpipeline.api.queue;

import dev.latentpipeline.pipeline.GenerationEvent.StageTiming;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.Stages;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * What each stage costs, from the stage records ({@code stages}) of the last {@value #KEPT} completed jobs in log order
 * (docs/queue.md). Per job: the UNet's wall time per loop step and the most jobs it shared a UNet call with
 * ({@code largest_batch}), VAE and text-encoder time. From those, {@link #prices()} derives how much one more job in
 * a batched call adds to a step ({@link Prices#batchMarginal}) and what a step of each job costs alone. Medians, so
 * one job slowed by a hand-off or a rebalance does not move them.
 */
final class StageCosts {
    static final int KEPT = 50;
    /** Assumed when no completed job shows what batching saves: an extra job costs what it costs alone. */
    static final double NO_BATCHING_GAIN = 1.0;

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

    /**
     * One completed job: its shape, UNet wall milliseconds per step (every job the worker ran meanwhile included), the
     * most jobs in one of its UNet calls, VAE and text-encoder milliseconds.
     */
    record Sample(Shape shape, double unetMsPerStep, int largestBatch, double vaeMs, double textMs) {
    }

    /**
     * A job's expected costs.
     *
     * @param unetMsPerStep one loop step of the job alone on its worker
     */
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
        int largestBatch = 1;
        double vaeMs = 0;
        double textMs = 0;
        for (StageTiming s : stages) {
            if (Stages.UNET.equals(s.stage())) {
                if (s.fromStep() == null || s.toStep() == null) {
                    return;
                }
                unetMs += millis(s);
                steps += s.toStep() - s.fromStep();
                largestBatch = Math.max(largestBatch, s.largestBatch() == null ? 1 : s.largestBatch());
            } else if (Stages.VAE.equals(s.stage())) {
                vaeMs += millis(s);
            } else if (Stages.TEXT_ENCODER.equals(s.stage())) {
                textMs += millis(s);
            }
        }
        if (steps == 0) {
            return;
        }
        samples.addLast(new Sample(Shape.of(request), unetMs / steps, largestBatch, vaeMs, textMs));
        if (samples.size() > KEPT) {
            samples.removeFirst();
        }
    }

    /** The microsecond figure where the record has one: tiny jobs take less than a millisecond a step. */
    private static double millis(StageTiming s) {
        return s.durationUs() != null ? s.durationUs() / 1000.0 : s.durationMs();
    }

    /** The prices the completed jobs so far give, computed once for every job of a line. */
    synchronized Prices prices() {
        return new Prices(List.copyOf(samples));
    }

    /** Costs read from one snapshot of the samples. */
    static final class Prices {
        private final List<Sample> samples;
        private final double batchMarginal;

        private Prices(List<Sample> samples) {
            this.samples = samples;
            this.batchMarginal = batchMarginal(samples);
        }

        /**
         * What each job beyond the first adds to a batched UNet call, as a fraction of its cost alone (0: free, 1: no
         * gain). A job that shared calls with up to b jobs and took m ms a step, where alone it would take a (the
         * median of jobs that ran alone, scaled to its shape), gives (m / a - 1) / (b - 1), clamped to [0, 1]; the
         * median of those. Without jobs of both kinds: {@value #NO_BATCHING_GAIN}. b is the largest call the job was
         * in, not its average, so this leans low (batching looks cheaper than it was) when the load varied.
         */
        private static double batchMarginal(List<Sample> samples) {
            List<Sample> alone = samples.stream().filter(s -> s.largestBatch() == 1).toList();
            List<Sample> batched = samples.stream().filter(s -> s.largestBatch() > 1).toList();
            if (alone.isEmpty() || batched.isEmpty()) {
                return NO_BATCHING_GAIN;
            }
            double alonePerUnit = median(alone, s -> s.unetMsPerStep() / s.shape().unetUnits());
            double[] marginals = batched.stream().mapToDouble(s -> {
                double a = alonePerUnit * s.shape().unetUnits();
                return Math.min(1, Math.max(0, (s.unetMsPerStep() / a - 1) / (s.largestBatch() - 1)));
            }).toArray();
            return median(marginals);
        }

        double batchMarginal() {
            return batchMarginal;
        }

        /** A step of the sample's job alone: its measured step, undone of the batch it ran in. */
        private double aloneMsPerStep(Sample s) {
            return s.unetMsPerStep() / (1 + batchMarginal * (s.largestBatch() - 1));
        }

        /**
         * Empty until a job has completed. From completed jobs of the same shape (size, image count, guidance on or
         * off) when there are some, else read off the {@link CostLine} through the shapes seen: by latent pixels times
         * images (twice for guidance) for the UNet, by pixels times images for the VAE.
         */
        Optional<Estimate> estimate(GenerationRequest request) {
            if (samples.isEmpty()) {
                return Optional.empty();
            }
            Shape shape = Shape.of(request);
            List<Sample> same = samples.stream().filter(s -> s.shape().equals(shape)).toList();
            double unet;
            double vae;
            if (!same.isEmpty()) {
                unet = median(same, this::aloneMsPerStep);
                vae = median(same, Sample::vaeMs);
            } else {
                unet = CostLine.through(samples, s -> s.shape().unetUnits(), this::aloneMsPerStep)
                        .at(shape.unetUnits());
                vae = CostLine.through(samples, s -> s.shape().pixels(), Sample::vaeMs).at(shape.pixels());
            }
            return Optional.of(new Estimate(unet, vae, median(samples, Sample::textMs)));
        }
    }

    /**
     * Cost against work, fixed + perUnit * work, fitted by least squares through one point per shape seen (its median
     * cost), so a frequent shape does not outweigh the others. A fixed part matters: on a small model a tiny job's
     * step is mostly overhead, and scaling it in proportion to work would price a large job hundreds of times too
     * high. With one shape seen, or a fit that comes out negative (noise), the line goes through the origin instead.
     */
    record CostLine(double fixed, double perUnit) {
        static CostLine through(List<Sample> samples, ToDoubleFunction<Sample> work, ToDoubleFunction<Sample> cost) {
            Map<Shape, List<Sample>> byShape = new LinkedHashMap<>();
            samples.forEach(s -> byShape.computeIfAbsent(s.shape(), k -> new ArrayList<>()).add(s));
            int n = byShape.size();
            double[] x = new double[n];
            double[] y = new double[n];
            int i = 0;
            for (List<Sample> same : byShape.values()) {
                x[i] = work.applyAsDouble(same.get(0));
                y[i++] = median(same, cost);
            }
            double mx = Arrays.stream(x).average().orElse(0);
            double my = Arrays.stream(y).average().orElse(0);
            double sxx = 0;
            double sxy = 0;
            for (int k = 0; k < n; k++) {
                sxx += (x[k] - mx) * (x[k] - mx);
                sxy += (x[k] - mx) * (y[k] - my);
            }
            if (sxx > 0) {
                double perUnit = sxy / sxx;
                double fixed = my - perUnit * mx;
                if (perUnit >= 0 && fixed >= 0) {
                    return new CostLine(fixed, perUnit);
                }
            }
            double sx2 = Arrays.stream(x).map(v -> v * v).sum();
            double sxyOrigin = 0;
            for (int k = 0; k < n; k++) {
                sxyOrigin += x[k] * y[k];
            }
            return new CostLine(0, sx2 == 0 ? 0 : sxyOrigin / sx2);
        }

        double at(double work) {
            return fixed + perUnit * work;
        }
    }

    private static double median(List<Sample> of, ToDoubleFunction<Sample> value) {
        return median(of.stream().mapToDouble(value).toArray());
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
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
