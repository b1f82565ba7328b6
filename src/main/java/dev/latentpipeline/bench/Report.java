package dev.latentpipeline.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.Locale;

/** Prints the benchmark's figures as plain aligned text. */
final class Report {
    private final PrintStream out;

    Report(PrintStream out) {
        this.out = out;
    }

    private void line(String format, Object... args) {
        out.println(String.format(Locale.ROOT, format, args));
    }

    void header(ObjectNode request, BenchOptions options) {
        line("benchmark: %d requests per run (after %d warm-up) of %s", options.requests(), options.warmup(),
                request);
    }

    void hops(long[][] sizeAndMicros) {
        StringBuilder figures = new StringBuilder();
        for (long[] hop : sizeAndMicros) {
            figures.append(String.format(Locale.ROOT, "  %d KiB %.2f ms", hop[0] / 1024, hop[1] / 1000.0));
        }
        line("broker floor, one hop p50:%s", figures);
    }

    void storage(int bytes, long[] putAndGetMicros) {
        line("storage floor, p50: PUT %d KiB %.2f ms  GET %.2f ms", bytes / 1024, putAndGetMicros[0] / 1000.0,
                putAndGetMicros[1] / 1000.0);
    }

    /**
     * One run; with a baseline given, also the overhead over it (same requests, one at a time) and how much of that
     * the floor explains ({@code floorUs}: the hops and storage calls a request cannot avoid).
     */
    void run(Figures f, Figures baseline, long floorUs) {
        line("");
        line("%s", f.label());
        line("  finished %d of %d (%d completed) in %.2f s: %.2f requests/s", f.samples().size(), f.requests(),
                f.completed(), f.wallNanos() / 1e9, f.throughput());
        line("  latency p50 %.1f ms, p95 %.1f ms", f.latencyMs(50), f.latencyMs(95));
        line("  per request (mean ms): ONNX Runtime %.1f | other model work %.1f | tensor encoding %.2f | PNG %.2f"
                + " | storage %.2f | broker hops and queue wait %.1f | terminal event's hop %.1f | the rest %.1f",
                f.meanMs(Sample::onnxUs), f.meanMs(Sample::otherComputeUs), f.meanMs(Sample::encodeUs),
                f.meanMs(Sample::pngUs), f.meanMs(Sample::storageUs), f.meanMs(Sample::queuedUs),
                f.meanMs(Sample::completedHopUs), f.meanMs(Sample::restUs));
        if (!f.samples().isEmpty() && f.samples().get(0).stages() != null) {
            for (String stage : new String[] {"text-encoder", "unet", "vae"}) {
                line("    %-12s queued %.2f | took %.2f (ONNX %.2f, encoding %.2f, PNG %.2f, storage %.2f)", stage,
                        f.stageMeanMs(stage, "queued_us"), f.stageMeanMs(stage, "duration_us"),
                        f.stageMeanMs(stage, "onnx_us"), f.stageMeanMs(stage, "encode_us"),
                        f.stageMeanMs(stage, "png_us"), f.stageMeanMs(stage, "storage_us"));
            }
        }
        if (!Double.isNaN(f.coreMsPerRequest())) {
            line("  core time per request %.1f ms (JIT compilation %.1f ms of it), %.2f cores busy",
                    f.coreMsPerRequest(), f.jitMsPerRequest(), f.busyCores());
        }
        if (f.meanBatch() > 0) {
            line("  UNet jobs per call, largest per request (mean): %.1f", f.meanBatch());
        }
        if (baseline != null) {
            double overhead = f.latencyMs(50) - baseline.latencyMs(50);
            line("  overhead over the baseline: p50 %.1f ms - %.1f ms = %.1f ms (p95 %.1f - %.1f)", f.latencyMs(50),
                    baseline.latencyMs(50), overhead, f.latencyMs(95), baseline.latencyMs(95));
            line("  ONNX Runtime per request: pipeline %.2f ms, baseline %.2f ms (x%.2f)",
                    f.percentileMs(Sample::onnxUs, 50), baseline.percentileMs(Sample::onnxUs, 50),
                    f.percentileMs(Sample::onnxUs, 50) / baseline.percentileMs(Sample::onnxUs, 50));
            line("  floor (4 hops, the PNG upload, with --latents their download): %.1f ms; overhead above it: %.1f ms"
                    + " (x%.2f the floor)", floorUs / 1000.0, overhead - floorUs / 1000.0, overhead / (floorUs / 1000.0));
        }
    }

    /**
     * Batching on over off, per kind of run and concurrency: the UNet alone in this JVM bounds what the other two can
     * show, since the work outside the UNet is the same with and without batching.
     */
    void batchingRatios(Ratios ratios) {
        boolean header = false;
        for (var kind : ratios.all().entrySet()) {
            for (int concurrency : kind.getValue().keySet()) {
                var ratio = ratios.ratio(kind.getKey(), concurrency);
                if (ratio.isEmpty()) {
                    continue;
                }
                if (!header) {
                    line("");
                    line("throughput, batching on / off:");
                    header = true;
                }
                int runs = ratios.runs(kind.getKey(), concurrency, true);
                line("  %-26s %2d in flight: %.2f / %.2f per s = x%.2f%s", kind.getKey(), concurrency,
                        ratios.mean(kind.getKey(), concurrency, true), ratios.mean(kind.getKey(), concurrency, false),
                        ratio.getAsDouble(), runs > 1 ? " (means of " + runs + " runs each)" : "");
            }
        }
    }
}
