package dev.latentpipeline.api;

import dev.latentpipeline.api.status.StatusStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashSet;
import java.util.Set;

/**
 * The in-flight bound (sd.api.max-in-flight) as one atomic check-and-reserve. A submission holds a reservation from
 * the check until its queued event is in the status store, so concurrent submissions cannot all pass the check before
 * any of them is counted. The count is the store's unfinished jobs (every replica reads them all from sd.events) plus
 * this replica's reservations the store does not show yet; reservations of other replicas are visible only once their
 * queued events have been read back (README, "Errors").
 */
@ApplicationScoped
public class Admission {
    @Inject
    StatusStore store;
    @Inject
    ApiConfig api;

    private final Set<String> reserved = new HashSet<>();

    /** Reserves a place for {@code id}; false when the deployment already has max-in-flight unfinished jobs. */
    public synchronized boolean tryReserve(String id) {
        if (count() >= api.maxInFlight()) {
            return false;
        }
        reserved.add(id);
        return true;
    }

    /** After the job's queued event is in the store (it counts there now), or when publishing it failed. */
    public synchronized void release(String id) {
        reserved.remove(id);
    }

    /** Unfinished jobs, counting a reservation once whether or not its queued event has been read back yet. */
    public synchronized int count() {
        int unseen = 0;
        for (String id : reserved) {
            if (!store.isInFlight(id)) {
                unseen++;
            }
        }
        return store.inFlightCount() + unseen;
    }
}
