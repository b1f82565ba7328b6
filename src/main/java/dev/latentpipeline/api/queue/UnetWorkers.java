package dev.latentpipeline.api.queue;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which UNet worker serves each partition of sd.embeddings, as the event log shows it: the worker named by the latest
 * denoising event of a job on that partition. One worker serves all the partitions the group assigned it, taking their
 * jobs in turns, so jobs on those partitions share one line; a partition no denoising event has come from yet is a
 * line of its own.
 */
final class UnetWorkers {
    private final Map<Integer, String> byPartition = new ConcurrentHashMap<>();

    void denoised(int partition, String worker) {
        byPartition.put(partition, worker);
    }

    /** {@code partition} and every partition served by the same worker. */
    Set<Integer> sameWorkerAs(int partition) {
        Set<Integer> line = new TreeSet<>();
        line.add(partition);
        String worker = byPartition.get(partition);
        if (worker != null) {
            byPartition.forEach((p, w) -> {
                if (w.equals(worker)) {
                    line.add(p);
                }
            });
        }
        return line;
    }
}
