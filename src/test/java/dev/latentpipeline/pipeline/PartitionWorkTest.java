package dev.latentpipeline.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PartitionWorkTest {
    static final TopicPartition P0 = new TopicPartition("sd.embeddings", 0);
    static final TopicPartition P1 = new TopicPartition("sd.embeddings", 1);
    static final Duration LONG_GRACE = Duration.ofSeconds(30);

    final PartitionWork handoff = new PartitionWork("embeddings");

    @BeforeEach
    void trackedByTheHandoffStrategy() {
        handoff.trackPartitions();
    }

    @Test
    void withAnotherCommitStrategyEveryMessageIsHandled() {
        PartitionWork untracked = new PartitionWork("latents");
        assertTrue(untracked.tryEnter(P0), "ownership is unknown, so the message must not be skipped");
        untracked.exit(P0, 1);
        untracked.stopTaking();
        assertFalse(untracked.tryEnter(P0));
    }

    @Test
    void worksOnlyOnPartitionsItOwns() {
        assertFalse(handoff.tryEnter(P0), "nothing is owned before the first assignment");
        handoff.assigned(List.of(P0));
        assertTrue(handoff.tryEnter(P0));
        assertFalse(handoff.tryEnter(P1));
        handoff.exit(P0, 7);
        assertEquals(Map.of(P0, 8L), handoff.handledOffsets(null));
    }

    @Test
    void revocationWaitsForTheLoopToCheckpointAndReturnsItsOffset() throws Exception {
        handoff.assigned(List.of(P0, P1));
        assertTrue(handoff.tryEnter(P0));
        handoff.exit(P0, 3);
        assertTrue(handoff.tryEnter(P0));
        CountDownLatch yielding = new CountDownLatch(1);
        Thread loop = new Thread(() -> {
            // The loop runs until told to hand its request on, as DenoisingStage's step callback does.
            while (!handoff.mustYield(P0)) {
                Thread.onSpinWait();
            }
            yielding.countDown();
            handoff.exit(P0, 41);
        });
        loop.start();
        Map<TopicPartition, Long> toCommit = handoff.revoke(List.of(P0), LONG_GRACE);
        assertTrue(yielding.await(0, TimeUnit.SECONDS));
        assertEquals(Map.of(P0, 42L), toCommit, "revoke returned before the loop's checkpoint was handled");
        assertFalse(handoff.mustYield(P1), "a partition that stays is not disturbed");
        assertTrue(handoff.tryEnter(P1));
        loop.join();
    }

    @Test
    void aStoppingConsumerStartsNothingAndAsksRunningWorkToYield() {
        handoff.assigned(List.of(P0));
        assertTrue(handoff.tryEnter(P0));
        handoff.stopTaking();
        assertTrue(handoff.mustYield(P0));
        assertFalse(handoff.tryEnter(P0));
        assertEquals(1, handoff.busy());
        handoff.exit(P0, 2);
        assertEquals(0, handoff.awaitIdle(System.nanoTime()));
        assertEquals(Map.of(P0, 3L), handoff.handledOffsets(null), "handled before the stop, so committed");
    }

    @Test
    void messagesOfAPartitionBeingRevokedOrGoneAreLeftAlone() {
        handoff.assigned(List.of(P0));
        handoff.revoke(List.of(P0), LONG_GRACE);
        assertFalse(handoff.tryEnter(P0), "a message fetched before the revocation must not start");
        handoff.released(List.of(P0));
        assertFalse(handoff.tryEnter(P0));
        assertEquals(Map.of(), handoff.handledOffsets(null));
    }

    @Test
    void offsetsFromAnEarlierTurnOfOwnershipAreForgotten() {
        handoff.assigned(List.of(P1));
        assertTrue(handoff.tryEnter(P1));
        handoff.exit(P1, 10);
        handoff.revoke(List.of(P1), LONG_GRACE);
        handoff.released(List.of(P1));
        handoff.assigned(List.of(P1));
        // Another worker went further meanwhile; committing offset 11 again would move the group backwards.
        assertEquals(Map.of(), handoff.handledOffsets(null));
    }

    @Test
    void aLoopThatNeverStopsDelaysTheRevocationOnlyForTheGrace() throws Exception {
        handoff.assigned(List.of(P0));
        assertTrue(handoff.tryEnter(P0));
        CompletableFuture<Map<TopicPartition, Long>> revoked = CompletableFuture
                .supplyAsync(() -> handoff.revoke(List.of(P0), Duration.ofMillis(200)));
        assertEquals(Map.of(), revoked.get(30, TimeUnit.SECONDS), "nothing handled, nothing to commit");
        handoff.released(List.of(P0));
        handoff.exit(P0, 5);
        assertEquals(Map.of(), handoff.handledOffsets(null), "a late loop must not commit a partition it lost");
    }
}
