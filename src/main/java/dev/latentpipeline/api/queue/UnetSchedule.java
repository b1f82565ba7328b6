package dev.latentpipeline.api.queue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One UNet worker's line played forward (docs/queue.md): the worker runs up to {@code capacity} jobs at once, every
 * running job advancing one step per engine step; a job that ends frees its place at once, and the waiting jobs that
 * have reached the worker fill the free places in the order messaging/StageConsumer takes them: the first of the
 * highest priority waiting, unless the first of a lower priority has waited longer than {@code maxWaitMs} since it was
 * sent (then the one of those sent first). Within a priority, first come first served. An engine step costs, per group of jobs that share a UNet call (same size), the
 * dearest job's step plus {@code batchMarginal} times the others' steps alone; the groups run one after another.
 * Times are milliseconds from now.
 */
final class UnetSchedule {
    /** Beyond this many events (a line far longer than any in-flight bound) there is no forecast worth its cost. */
    static final int MAX_EVENTS = 10_000;

    /** How the worker takes and runs jobs. */
    record Rules(int capacity, double maxWaitMs, double batchMarginal) {
        Rules {
            capacity = Math.max(1, capacity);
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
        List<String> order = new ArrayList<>();
        Map<String, Forecast> forecasts = new LinkedHashMap<>();
        double now = 0;
        for (int events = 0; events < MAX_EVENTS; events++) {
            while (active.size() < rules.capacity()) {
                Job next = take(queue, now, rules.maxWaitMs());
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

    /** What StageConsumer.next takes at {@code now} among the jobs that have reached the worker; null: none. */
    private static Job take(List<Job> queue, double now, double maxWaitMs) {
        Map<Integer, Job> heads = new HashMap<>();
        for (Job j : queue) {
            if (j.sentAtMs() <= now) {
                heads.putIfAbsent(j.priority(), j);
            }
        }
        if (heads.isEmpty()) {
            return null;
        }
        int highest = heads.keySet().stream().mapToInt(Integer::intValue).min().orElseThrow();
        Job chosen = heads.get(highest);
        double oldest = Double.MAX_VALUE;
        for (Job head : heads.values()) {
            if (head.priority() > highest && head.sentAtMs() < now - maxWaitMs && head.sentAtMs() < oldest) {
                oldest = head.sentAtMs();
                chosen = head;
            }
        }
        return chosen;
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
