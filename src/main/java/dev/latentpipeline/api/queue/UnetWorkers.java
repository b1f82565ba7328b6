package dev.latentpipeline.api.queue;

import dev.latentpipeline.pipeline.RequestPriority;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which UNet worker serves each partition of the UNet's input topics (one per priority), and how many jobs each
 * worker runs at once, as the event log shows them: the worker named by the latest denoising event of a job from that
 * partition, and that event's {@code worker_capacity}. One worker serves all the partitions the group assigned it, so
 * the jobs on those partitions share one line.
 */
final class UnetWorkers {
    /** A partition of the UNet input topic of one priority. */
    record Input(RequestPriority priority, int partition) {
    }

    private final Map<Input, String> byInput = new ConcurrentHashMap<>();
    private final Map<String, Integer> capacities = new ConcurrentHashMap<>();

    void denoised(Input input, String worker, Integer capacity) {
        byInput.put(input, worker);
        if (capacity != null && capacity > 0) {
            capacities.put(worker, capacity);
        }
    }

    /**
     * The worker serving {@code input}: the one seen there; else the one seen on the same partition of another
     * priority's topic (the topics have as many partitions and a worker usually owns the same ones of each); else the
     * only worker seen at all. Empty when none of these tells.
     */
    Optional<String> serving(Input input) {
        String seen = byInput.get(input);
        if (seen != null) {
            return Optional.of(seen);
        }
        for (RequestPriority other : RequestPriority.values()) {
            String worker = byInput.get(new Input(other, input.partition()));
            if (worker != null) {
                return Optional.of(worker);
            }
        }
        Set<String> workers = new HashSet<>(byInput.values());
        return workers.size() == 1 ? Optional.of(workers.iterator().next()) : Optional.empty();
    }

    /** How many jobs the worker runs at once, once one of its denoising events has said so. */
    OptionalInt capacity(String worker) {
        Integer c = capacities.get(worker);
        return c == null ? OptionalInt.empty() : OptionalInt.of(c);
    }
}
