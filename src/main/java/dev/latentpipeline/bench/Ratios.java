package dev.latentpipeline.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Throughputs by kind of run, concurrency and batching, for the batched-over-unbatched ratios of one run; a setting
 * run in several rounds counts with its mean.
 */
final class Ratios {
    /** Per kind and concurrency: the sum of throughputs and the number of runs, batching off then on. */
    private final Map<String, Map<Integer, double[]>> throughputs = new LinkedHashMap<>();

    void add(String kind, int concurrency, boolean batching, double throughput) {
        double[] sums = throughputs.computeIfAbsent(kind, k -> new LinkedHashMap<>()).computeIfAbsent(concurrency,
                c -> new double[4]);
        int at = batching ? 2 : 0;
        sums[at] += throughput;
        sums[at + 1]++;
    }

    Map<String, Map<Integer, double[]>> all() {
        return throughputs;
    }

    /** The mean throughput of one setting; NaN when it was not run. */
    double mean(String kind, int concurrency, boolean batching) {
        double[] sums = throughputs.getOrDefault(kind, Map.of()).get(concurrency);
        int at = batching ? 2 : 0;
        return sums == null || sums[at + 1] == 0 ? Double.NaN : sums[at] / sums[at + 1];
    }

    /** How many runs of one setting there were. */
    int runs(String kind, int concurrency, boolean batching) {
        double[] sums = throughputs.getOrDefault(kind, Map.of()).get(concurrency);
        return sums == null ? 0 : (int) sums[batching ? 3 : 1];
    }

    /** Batching on over off for one kind and concurrency, when both were run. */
    OptionalDouble ratio(String kind, int concurrency) {
        double on = mean(kind, concurrency, true);
        double off = mean(kind, concurrency, false);
        return Double.isNaN(on) || Double.isNaN(off) ? OptionalDouble.empty() : OptionalDouble.of(on / off);
    }
}
