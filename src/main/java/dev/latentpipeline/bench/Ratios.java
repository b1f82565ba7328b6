package dev.latentpipeline.bench;

import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Throughputs by kind of run, concurrency and batching, for the batched-over-unbatched ratios of one run; a setting
 * run in several rounds counts with its mean.
 */
final class Ratios {
    private final Map<String, Map<Integer, Map<Boolean, DoubleSummaryStatistics>>> throughputs =
            new LinkedHashMap<>();

    void add(String kind, int concurrency, boolean batching, double throughput) {
        throughputs.computeIfAbsent(kind, k -> new LinkedHashMap<>()).computeIfAbsent(concurrency,
                c -> new LinkedHashMap<>()).computeIfAbsent(batching, b -> new DoubleSummaryStatistics())
                .accept(throughput);
    }

    /** The kinds of run, in the order they were first added, each with its concurrencies. */
    Map<String, Map<Integer, Map<Boolean, DoubleSummaryStatistics>>> all() {
        return throughputs;
    }

    private DoubleSummaryStatistics of(String kind, int concurrency, boolean batching) {
        return throughputs.getOrDefault(kind, Map.of()).getOrDefault(concurrency, Map.of()).getOrDefault(batching,
                new DoubleSummaryStatistics());
    }

    /** The mean throughput of one setting; NaN when it was not run. */
    double mean(String kind, int concurrency, boolean batching) {
        DoubleSummaryStatistics runs = of(kind, concurrency, batching);
        return runs.getCount() == 0 ? Double.NaN : runs.getAverage();
    }

    /** How many runs of one setting there were. */
    int runs(String kind, int concurrency, boolean batching) {
        return (int) of(kind, concurrency, batching).getCount();
    }

    /** Batching on over off for one kind and concurrency, when both were run. */
    OptionalDouble ratio(String kind, int concurrency) {
        double on = mean(kind, concurrency, true);
        double off = mean(kind, concurrency, false);
        return Double.isNaN(on) || Double.isNaN(off) ? OptionalDouble.empty() : OptionalDouble.of(on / off);
    }
}
