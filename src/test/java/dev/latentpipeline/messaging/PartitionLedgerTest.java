package dev.latentpipeline.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class PartitionLedgerTest {

    @Test
    void nothingFetchedNothingToCommit() {
        assertTrue(new PartitionLedger().committable().isEmpty());
    }

    @Test
    void theCommitStopsAtTheLowestUnfinishedMessage() {
        PartitionLedger ledger = new PartitionLedger();
        for (long offset = 10; offset < 14; offset++) {
            ledger.fetched(offset);
        }
        assertEquals(OptionalLong.of(10), ledger.committable(), "nothing finished: the first message is next");
        ledger.finished(12);
        ledger.finished(13);
        assertEquals(OptionalLong.of(10), ledger.committable(), "later messages done, the first still in hand");
        ledger.finished(10);
        assertEquals(OptionalLong.of(11), ledger.committable());
        ledger.finished(11);
        assertEquals(OptionalLong.of(14), ledger.committable(), "all done: one past the last fetched");
    }

    @Test
    void aCommittedOffsetIsNotCommittedAgainAndCoversWhatIsBelowIt() {
        PartitionLedger ledger = new PartitionLedger();
        ledger.fetched(5);
        ledger.fetched(6);
        ledger.finished(5);
        ledger.committed(6);
        assertTrue(ledger.covers(5));
        assertFalse(ledger.covers(6));
        assertTrue(ledger.committable().isEmpty(), "6 is still in hand and 6 is committed already");
        ledger.finished(6);
        assertEquals(OptionalLong.of(7), ledger.committable());
    }

    @Test
    void aReleasedMessageKeepsTheCommitBelowIt() {
        PartitionLedger ledger = new PartitionLedger();
        ledger.fetched(0);
        ledger.fetched(1);
        ledger.fetched(2);
        // 1 was handed back (its job moves to the partition's next owner): never finished in this turn.
        ledger.finished(0);
        ledger.finished(2);
        assertEquals(OptionalLong.of(1), ledger.committable());
        assertTrue(ledger.isUnfinished(1));
    }
}
