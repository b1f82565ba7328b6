package dev.latentpipeline.api.queue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One UNet worker's line played forward (docs/queue.md): the worker runs up to {@code capacity} jobs at once, every
 * running job advancing one step per engine step; a job that ends frees its place at once, and the waiting jobs that
 * have reached the worker fill the free places in the order messaging/StageConsumer takes them: the first of the
 * highest priority waiting, except that after {@code share - 1} of those in a row while lower-priority jobs waited,
 * the lower-priority one sent first. Within a priority, first come first served. An engine step costs, per group of
 * jobs that share a UNet call (same size), the dearest job's step plus {@code batchMarginal} times the others' steps
 * alone; the groups run one after another.
 * Times are milliseconds from now.
 */
final class UnetSchedule {
    /** Beyond this many events (a line far longer than any in-flight bound) there is no forecast worth its cost. */
    static final int MAX_EVENTS = 10_000;

    /**
     * How the worker takes and runs jobs.
     *
     * @param share sd.priority.share: every share-th job taken while lower priority waits is the oldest lower one
     */
    record Rules(int capacity, int share, double batchMarginal) {
        Rules {
            capacity = Math.max(1, capacity);
            share = Math.max(2, share);
        }
    }

    /**
     * A job of the line, running or waiting.
     *
     * @param priority 0 for the highest
     * @param sentAtMs when it reached (negative) or will reach the worker's input: waiting jobs only
     * @param msPerStep one step of it alone
     * @param batchGroup jobs of the same group share UNet calls
     */
    record Job(String id, int priority, double sentAtMs, int stepsLeft, double msPerStep, String batchGroup) {
    }

    /** When a job starts (0 for one already running) and ends its loop. */
    record Forecast(double startMs, double endMs) {
    }

    /**
     * The waiting jobs in the order they start, and the forecast of every job that ended within the play; none when
     * the play gave up after {@link #MAX_EVENTS}.
     */
    record Plan(List<String> startOrder, Map<String, Forecast> forecasts) {
    }

    private static final class Slot {
        final Job job;
        final double startMs;
        double stepsLeft;

        Slot(Job job, double startMs) {
            this.job = job;
            this.startMs = startMs;
            this.stepsLeft = job.stepsLeft();
        }
    }

    private UnetSchedule() {
    }

    /**
     * @param waiting oldest first: within a priority the worker takes them in this order, each once it has been sent
     */
    static Plan play(List<Job> running, List<Job> waiting, Rules rules) {
        List<Slot> active = new ArrayList<>();
        running.forEach(j -> active.add(new Slot(j, 0)));
        List<Job> queue = new ArrayList<>(waiting);
        // The consumer's count of higher-priority takes in a row is not in the log: the play starts it at 0.
        int[] passedOver = {0};
        List<String> order = new ArrayList<>();
        Map<String, Forecast> forecasts = new LinkedHashMap<>();
        double now = 0;
        for (int events = 0; events < MAX_EVENTS; events++) {
            while (active.size() < rules.capacity()) {
                Job next = take(queue, now, rules.share(), passedOver);
                if (next == null) {
                    break;
                }
                queue.remove(next);
                order.add(next.id());
                active.add(new Slot(next, now));
            }
            if (active.isEmpty()) {
                if (queue.isEmpty()) {
                    return new Plan(order, forecasts);
                }
                now = queue.stream().mapToDouble(Job::sentAtMs).min().orElseThrow();
                continue;
            }
            double step = Math.max(1e-6, stepMs(active, rules.batchMarginal()));
            double steps = active.stream().mapToDouble(s -> s.stepsLeft).min().orElseThrow();
            if (active.size() < rules.capacity()) {
                // A place is free: a job reaching the worker before the next one ends joins at the next step.
                double at = now;
                double nextSent = queue.stream().mapToDouble(Job::sentAtMs).filter(t -> t > at).min()
                        .orElse(Double.MAX_VALUE);
                steps = Math.max(1, Math.min(steps, Math.ceil((nextSent - now) / step)));
            }
            now += steps * step;
            for (var it = active.iterator(); it.hasNext();) {
                Slot s = it.next();
                s.stepsLeft -= steps;
                if (s.stepsLeft <= 0) {
                    forecasts.put(s.job.id(), new Forecast(s.startMs, now));
                    it.remove();
                }
            }
        }
        return new Plan(order, Map.of());
    }

    /**
     * What StageConsumer.next takes at {@code now} among the jobs that have reached the worker (null: none), counting
     * in {@code passedOver} the higher-priority takes in a row while lower-priority jobs waited.
     */
    private static Job take(List<Job> queue, double now, int share, int[] passedOver) {
        // By priority, highest first: on equal send times the higher priority wins, as in StageConsumer.next.
        TreeMap<Integer, Job> heads = new TreeMap<>();
        for (Job j : queue) {
            if (j.sentAtMs() <= now) {
                heads.putIfAbsent(j.priority(), j);
            }
        }
        if (heads.isEmpty()) {
            return null;
        }
        int highest = heads.firstKey();
        Job oldestLower = null;
        for (Job head : heads.tailMap(highest, false).values()) {
            if (oldestLower == null || head.sentAtMs() < oldestLower.sentAtMs()) {
                oldestLower = head;
            }
        }
        if (oldestLower == null) {
            passedOver[0] = 0;
            return heads.get(highest);
        }
        if (passedOver[0] >= share - 1) {
            passedOver[0] = 0;
            return oldestLower;
        }
        passedOver[0]++;
        return heads.get(highest);
    }

    /** One engine step: per call group, the dearest job plus the marginal share of the others; groups add up. */
    static double stepMs(List<Slot> active, double batchMarginal) {
        Map<String, double[]> groups = new HashMap<>(); // group: {sum, max}
        for (Slot s : active) {
            double[] g = groups.computeIfAbsent(s.job.batchGroup(), k -> new double[2]);
            g[0] += s.job.msPerStep();
            g[1] = Math.max(g[1], s.job.msPerStep());
        }
        return groups.values().stream().mapToDouble(g -> g[1] + batchMarginal * (g[0] - g[1])).sum();
    }
}
