package dev.latentpipeline.messaging;

import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * The offsets of one partition during one turn of ownership. Several messages of a partition may be in hand at
 * once (a UNet worker batches jobs), and they finish in any order, so the offset that is safe to commit is the
 * lowest unfinished one (or one past the last fetched when nothing is unfinished): never past a message whose
 * output is not on the broker. A message handed back unfinished (released) stays unfinished for the rest of the
 * turn, so the partition's next owner gets it again.
 */
final class PartitionLedger {
    private final TreeSet<Long> unfinished = new TreeSet<>();
    /** One past the highest offset fetched in this turn; -1 before the first. */
    private long afterFetched = -1;
    /** The highest offset the broker acknowledged as committed in this turn; -1 before the first. */
    private long committed = -1;

    void fetched(long offset) {
        unfinished.add(offset);
        afterFetched = Math.max(afterFetched, offset + 1);
    }

    void finished(long offset) {
        unfinished.remove(offset);
    }

    /** The offset to commit now, if it is beyond what is already committed. */
    OptionalLong committable() {
        if (afterFetched < 0) {
            return OptionalLong.empty();
        }
        long next = unfinished.isEmpty() ? afterFetched : unfinished.first();
        return next > committed ? OptionalLong.of(next) : OptionalLong.empty();
    }

    void committed(long offset) {
        committed = Math.max(committed, offset);
    }

    /** Whether the committed offset has moved past {@code offset}: its message will not be delivered again. */
    boolean covers(long offset) {
        return committed > offset;
    }

    boolean isUnfinished(long offset) {
        return unfinished.contains(offset);
    }
}
