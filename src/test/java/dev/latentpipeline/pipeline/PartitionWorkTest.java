package dev.latentpipeline.pipeline;

import static dev.latentpipeline.pipeline.PartitionWork.NOT_ENTERED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PartitionWorkTest {
    static final TopicPartition P0 = new TopicPartition("sd.embeddings", 0);
    static final TopicPartition P1 = new TopicPartition("sd.embeddings", 1);
    static final Duration LONG_GRACE = Duration.ofSeconds(30);

    final PartitionWork work = new PartitionWork("embeddings");

    @BeforeEach
    void trackedByTheHandoffStrategy() {
        work.trackPartitions();
    }

    /** Enters, asserting that the message may start. */
    long enter(TopicPartition partition) {
        long ticket = work.tryEnter(partition);
        assertNotEquals(NOT_ENTERED, ticket, "a message on an owned partition must start");
        return ticket;
    }

    @Test
    void withAnotherCommitStrategyEveryMessageIsHandled() {
        PartitionWork untracked = new PartitionWork("latents");
        long ticket = untracked.tryEnter(P0);
        assertNotEquals(NOT_ENTERED, ticket, "ownership is unknown, so the message must not be skipped");
        untracked.exit(P0, ticket, 1, true);
        untracked.stopTaking();
        assertEquals(NOT_ENTERED, untracked.tryEnter(P0));
    }

    @Test
    void worksOnlyOnPartitionsItOwns() {
        assertEquals(NOT_ENTERED, work.tryEnter(P0), "nothing is owned before the first assignment");
        work.assigned(List.of(P0));
        long ticket = enter(P0);
        assertEquals(NOT_ENTERED, work.tryEnter(P1));
        work.exit(P0, ticket, 7, true);
        assertEquals(Map.of(P0, 8L), work.handledOffsets(null));
    }

    @Test
    void aMessageThatFailedToBeHandledIsNotCommitted() {
        work.assigned(List.of(P0));
        work.exit(P0, enter(P0), 4, true);
        work.exit(P0, enter(P0), 5, false);
        assertEquals(Map.of(P0, 5L), work.handledOffsets(null), "offset 5 must be redelivered");
        assertEquals(0, work.busy());
    }

    @Test
    void revocationWaitsForTheLoopToCheckpointAndReturnsItsOffset() throws Exception {
        work.assigned(List.of(P0, P1));
        work.exit(P0, enter(P0), 3, true);
        long ticket = enter(P0);
        Thread loop = new Thread(() -> {
            // The loop runs until told to hand its request on, as DenoisingStage's step callback does.
            while (!work.mustYield(P0)) {
                Thread.onSpinWait();
            }
            work.exit(P0, ticket, 41, true);
        });
        loop.start();
        Map<TopicPartition, Long> toCommit = work.revoke(List.of(P0), LONG_GRACE);
        assertEquals(Map.of(P0, 42L), toCommit, "revoke returned before the loop's checkpoint was handled");
        assertTrue(!work.mustYield(P1), "a partition that stays is not disturbed");
        enter(P1);
        loop.join();
    }

    @Test
    void aStoppingConsumerStartsNothingAndAsksRunningWorkToYield() {
        work.assigned(List.of(P0));
        long ticket = enter(P0);
        work.stopTaking();
        assertTrue(work.mustYield(P0));
        assertEquals(NOT_ENTERED, work.tryEnter(P0));
        assertEquals(1, work.busy());
        work.exit(P0, ticket, 2, true);
        assertEquals(0, work.awaitIdle(System.nanoTime()));
        assertEquals(Map.of(P0, 3L), work.handledOffsets(null), "handled before the stop, so committed");
    }

    @Test
    void messagesOfAPartitionBeingRevokedOrGoneAreLeftAlone() {
        work.assigned(List.of(P0));
        work.revoke(List.of(P0), LONG_GRACE);
        assertEquals(NOT_ENTERED, work.tryEnter(P0), "a message fetched before the revocation must not start");
        work.released(List.of(P0));
        assertEquals(NOT_ENTERED, work.tryEnter(P0));
        assertEquals(Map.of(), work.handledOffsets(null));
    }

    @Test
    void offsetsFromAnEarlierTurnOfOwnershipAreForgotten() {
        work.assigned(List.of(P1));
        work.exit(P1, enter(P1), 10, true);
        work.revoke(List.of(P1), LONG_GRACE);
        work.released(List.of(P1));
        work.assigned(List.of(P1));
        // Another worker went further meanwhile; committing offset 11 again would move the group backwards.
        assertEquals(Map.of(), work.handledOffsets(null));
    }

    @Test
    void aLoopThatOutlivesItsPartitionNeverCommitsIt() throws Exception {
        work.assigned(List.of(P0));
        long ticket = enter(P0);
        CompletableFuture<Map<TopicPartition, Long>> revoked = CompletableFuture
                .supplyAsync(() -> work.revoke(List.of(P0), Duration.ofMillis(200)));
        assertEquals(Map.of(), revoked.get(30, TimeUnit.SECONDS), "nothing handled, nothing to commit");
        work.released(List.of(P0));
        work.exit(P0, ticket, 5, true);
        assertEquals(Map.of(), work.handledOffsets(null), "a late loop must not commit a partition it lost");

        // Nor when the partition came back meanwhile: the other owner may have committed past offset 5.
        work.assigned(List.of(P0));
        long late = enter(P0);
        work.revoke(List.of(P0), Duration.ofMillis(50));
        work.released(List.of(P0));
        work.assigned(List.of(P0));
        work.exit(P0, late, 5, true);
        assertEquals(Map.of(), work.handledOffsets(null));
    }
}
