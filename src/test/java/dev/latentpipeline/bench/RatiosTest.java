package dev.latentpipeline.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class RatiosTest {

    @Test
    void aSettingRunInSeveralRoundsCountsWithItsMean() {
        Ratios ratios = new Ratios();
        ratios.add("pipeline", 16, false, 20);
        ratios.add("pipeline", 16, true, 36);
        ratios.add("pipeline", 16, true, 30);
        ratios.add("pipeline", 16, false, 24);
        assertEquals(22, ratios.mean("pipeline", 16, false), 1e-9);
        assertEquals(33, ratios.mean("pipeline", 16, true), 1e-9);
        assertEquals(1.5, ratios.ratio("pipeline", 16).getAsDouble(), 1e-9);
        assertEquals(2, ratios.runs("pipeline", 16, true));
    }

    @Test
    void noRatioWithoutBothSettings() {
        Ratios ratios = new Ratios();
        ratios.add("pipeline", 1, true, 14);
        assertTrue(ratios.ratio("pipeline", 1).isEmpty());
        assertTrue(ratios.ratio("in process", 16).isEmpty());
        assertTrue(Double.isNaN(ratios.mean("pipeline", 1, false)));
    }

    @Test
    void everyOtherRoundRunsTheBatchingListBackwards() {
        BenchOptions options = BenchOptions.parse(new String[] {"--batching", "off,on", "--rounds", "3"},
                new ObjectMapper());
        assertEquals(3, options.rounds());
        assertEquals(List.of(false, true), options.batchingInRound(0));
        assertEquals(List.of(true, false), options.batchingInRound(1));
        assertEquals(List.of(false, true), options.batchingInRound(2));
    }
}
