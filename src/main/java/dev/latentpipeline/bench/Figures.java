package dev.latentpipeline.bench;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The figures of one measured run: throughput, latency percentiles, the mean split of a request's time, and the
 * process's core time over the run ({@code spent}).
 */
record Figures(String label, int concurrency, List<Sample> samples, long wallNanos, int requests, CpuClock spent) {

    int completed() {
        return (int) samples.stream().filter(Sample::completed).count();
    }

    double throughput() {
        return samples.size() / (wallNanos / 1e9);
    }

    /** The p-th percentile latency in milliseconds (nearest rank). */
    double latencyMs(int p) {
        long[] sorted = samples.stream().mapToLong(Sample::latencyUs).sorted().toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1000.0;
    }

    /** The mean of a part over the completed requests, in milliseconds. */
    double meanMs(ToLongFunction<Sample> part) {
        return samples.stream().filter(Sample::completed).mapToLong(part).average().orElse(Double.NaN) / 1000.0;
    }

    /** The p-th percentile of a part, in milliseconds. */
    double percentileMs(ToLongFunction<Sample> part, int p) {
        long[] sorted = samples.stream().filter(Sample::completed).mapToLong(part).sorted().toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1000.0;
    }

    /** Core time of the whole process per finished request, in milliseconds; NaN where unknown. */
    double coreMsPerRequest() {
        return spent.cpuNanos() < 0 || samples.isEmpty() ? Double.NaN : spent.cpuNanos() / 1e6 / samples.size();
    }

    /** JIT compilation time per finished request, in milliseconds; NaN where unknown. */
    double jitMsPerRequest() {
        return spent.jitMillis() < 0 || samples.isEmpty() ? Double.NaN : (double) spent.jitMillis() / samples.size();
    }

    /** Cores kept busy on average over the run. */
    double busyCores() {
        return spent.cpuNanos() < 0 ? Double.NaN : (double) spent.cpuNanos() / wallNanos;
    }

    double meanBatch() {
        return samples.stream().filter(Sample::completed).mapToInt(Sample::largestBatch).average().orElse(0);
    }

    /** The mean of one field of one stage's records over the completed requests, in milliseconds. */
    double stageMeanMs(String stage, String field) {
        return samples.stream().filter(s -> s.completed() && s.stages() != null).mapToLong(s -> {
            long sum = 0;
            for (var record : s.stages()) {
                if (stage.equals(record.path("stage").asText())) {
                    sum += record.path(field).asLong();
                }
            }
            return sum;
        }).average().orElse(Double.NaN) / 1000.0;
    }
}
