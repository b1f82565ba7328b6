package dev.latentpipeline.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The line played forward, against schedules worked out by hand. */
class UnetScheduleTest {
    private static final int HIGH = 0;
    private static final int NORMAL = 1;
    private static final int LOW = 2;
    /** A share no test line reaches: strict priority order. */
    private static final int STRICT = 1_000;

    private static UnetSchedule.Job job(String id, int steps, double msPerStep) {
        return new UnetSchedule.Job(id, NORMAL, -1, steps, msPerStep, "64x64");
    }

    private static UnetSchedule.Job job(String id, int priority, double sentAt, int steps) {
        return new UnetSchedule.Job(id, priority, sentAt, steps, 10, "64x64");
    }

    @Test
    void oneAtATimeIsFirstComeFirstServed() {
        UnetSchedule.Plan plan = UnetSchedule.play(List.of(job("running", 25, 10)),
                List.of(job("a", 30, 20), job("b", 10, 5)), new UnetSchedule.Rules(1, STRICT, 1));
        assertEquals(List.of("a", "b"), plan.startOrder());
        assertEquals(new UnetSchedule.Forecast(0, 250), plan.forecasts().get("running"));
        assertEquals(new UnetSchedule.Forecast(250, 850), plan.forecasts().get("a"));
        assertEquals(new UnetSchedule.Forecast(850, 900), plan.forecasts().get("b"));
    }

    /**
     * Capacity 3, every job 10 ms a step alone, an extra job in a call adding half of that (a step of k jobs: 10 +
     * 5 (k - 1) ms). Running: r1 with 4 steps left, r2 with 8; waiting a (6 steps), b (4), c (2), d (2).
     * 0: r1 r2 a (20 ms a step); 80: r1 ends, b joins (r2 4 left, a 2, b 4); 120: a ends, c joins (r2 2, b 2, c 2);
     * 160: r2, b and c end, d runs alone (10 ms a step): 180.
     */
    @Test
    void aWorkerOfCapacityThreeRunsThreeAtOnceAndFillsEachFreePlace() {
        UnetSchedule.Plan plan = UnetSchedule.play(List.of(job("r1", 4, 10), job("r2", 8, 10)),
                List.of(job("a", 6, 10), job("b", 4, 10), job("c", 2, 10), job("d", 2, 10)),
                new UnetSchedule.Rules(3, STRICT, 0.5));
        assertEquals(List.of("a", "b", "c", "d"), plan.startOrder());
        assertEquals(new UnetSchedule.Forecast(0, 80), plan.forecasts().get("r1"));
        assertEquals(new UnetSchedule.Forecast(0, 120), plan.forecasts().get("a"));
        assertEquals(new UnetSchedule.Forecast(80, 160), plan.forecasts().get("b"));
        assertEquals(new UnetSchedule.Forecast(120, 160), plan.forecasts().get("c"));
        assertEquals(new UnetSchedule.Forecast(160, 180), plan.forecasts().get("d"));
    }

    @Test
    void jobsOfAnotherSizeShareNoCallAndAddTheirWholeStep() {
        // Capacity 2: a 64x64 and a 512x512 job run in separate calls, 10 + 40 ms a step, whatever batching saves.
        UnetSchedule.Plan plan = UnetSchedule.play(List.of(), List.of(job("small", 5, 10),
                new UnetSchedule.Job("large", NORMAL, -1, 5, 40, "512x512")), new UnetSchedule.Rules(2, STRICT, 0));
        assertEquals(new UnetSchedule.Forecast(0, 250), plan.forecasts().get("small"));
        assertEquals(new UnetSchedule.Forecast(0, 250), plan.forecasts().get("large"));
    }

    @Test
    void higherPriorityStartsFirstAndLowerOnesGetTheirShare() {
        // One at a time. Waiting: two low jobs (sent first), four high ones, a normal one sent later.
        List<UnetSchedule.Job> waiting = List.of(job("low1", LOW, -50, 3), job("low2", LOW, -40, 3),
                job("high1", HIGH, -10, 3), job("high2", HIGH, -9, 3), job("high3", HIGH, -8, 3),
                job("high4", HIGH, -7, 3), job("normal", NORMAL, -30, 3));
        UnetSchedule.Plan strict = UnetSchedule.play(List.of(job("running", 3, 10)), waiting,
                new UnetSchedule.Rules(1, STRICT, 1));
        assertEquals(List.of("high1", "high2", "high3", "high4", "normal", "low1", "low2"), strict.startOrder());
        // Share 3: after two high ones in a row while lower ones wait, the lower one sent first (low1, then low2,
        // sent before normal). The count carries over: after high3 and high4, normal is the highest waiting but it
        // is low2's turn.
        UnetSchedule.Plan shared = UnetSchedule.play(List.of(job("running", 3, 10)), waiting,
                new UnetSchedule.Rules(1, 3, 1));
        assertEquals(List.of("high1", "high2", "low1", "high3", "high4", "low2", "normal"), shared.startOrder());
        // Each waits for the jobs before it, 30 ms each, after the running one's 30 ms.
        assertEquals(new UnetSchedule.Forecast(90, 120), shared.forecasts().get("low1"));
    }

    @Test
    void takesWhileNoLowerJobWaitsDoNotCountTowardsTheShare() {
        // One at a time, 30 ms a job. low reaches the worker at 15, while high1 runs: high1 was taken with nothing
        // lower waiting, so with share 3 low's turn comes after high2 and high3, not after high2 alone.
        List<UnetSchedule.Job> waiting = List.of(job("high1", HIGH, -5, 3), job("high2", HIGH, -4, 3),
                job("high3", HIGH, -3, 3), job("high4", HIGH, -2, 3), job("low", LOW, 15, 3));
        UnetSchedule.Plan plan = UnetSchedule.play(List.of(), waiting, new UnetSchedule.Rules(1, 3, 1));
        assertEquals(List.of("high1", "high2", "high3", "low", "high4"), plan.startOrder());
        assertEquals(new UnetSchedule.Forecast(90, 120), plan.forecasts().get("low"));
    }

    @Test
    void lowerJobsSentAtTheSameTimeGoHigherPriorityFirst() {
        // Share 2: every second take while lower jobs wait is the lower one sent first; normal and low were sent
        // together, and StageConsumer then takes the higher of the two.
        List<UnetSchedule.Job> waiting = List.of(job("low", LOW, -10, 3), job("normal", NORMAL, -10, 3),
                job("high1", HIGH, -5, 3), job("high2", HIGH, -4, 3));
        UnetSchedule.Plan plan = UnetSchedule.play(List.of(), waiting, new UnetSchedule.Rules(1, 2, 1));
        assertEquals(List.of("high1", "normal", "high2", "low"), plan.startOrder());
    }

    @Test
    void aJobStillBeingEncodedJoinsAtTheNextStepAfterItArrives() {
        // Capacity 2, one running job (10 steps of 10 ms); the waiting one reaches the worker at 25 ms, joins at 30
        // (the next step boundary), then both run at 10 + 10 = 20 ms a step until it ends at 110; the running job's
        // last 3 steps run alone.
        UnetSchedule.Plan plan = UnetSchedule.play(List.of(job("running", 10, 10)),
                List.of(job("encoding", NORMAL, 25, 4)), new UnetSchedule.Rules(2, STRICT, 1));
        assertEquals(new UnetSchedule.Forecast(30, 110), plan.forecasts().get("encoding"));
        assertEquals(new UnetSchedule.Forecast(0, 140), plan.forecasts().get("running"));
    }

    @Test
    void aLineTooLongToPlayGivesNoForecast() {
        List<UnetSchedule.Job> waiting = new java.util.ArrayList<>();
        for (int i = 0; i < UnetSchedule.MAX_EVENTS + 1; i++) {
            waiting.add(job("w" + i, 1, 1));
        }
        assertTrue(UnetSchedule.play(List.of(), waiting, new UnetSchedule.Rules(1, STRICT, 1)).forecasts().isEmpty());
    }
}
