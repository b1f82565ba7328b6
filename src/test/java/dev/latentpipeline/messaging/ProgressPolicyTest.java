package dev.latentpipeline.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressPolicyTest {
    private static final long MS = 1_000_000;

    /** The steps that report when each step takes {@code stepMs}, from a start event at time 0. */
    private static List<Integer> reported(ProgressPolicy policy, int total, long stepMs) {
        List<Integer> steps = new ArrayList<>();
        long last = 0;
        for (int step = 1; step <= total; step++) {
            long now = step * stepMs * MS;
            if (policy.due(step, total, now - last)) {
                steps.add(step);
                last = now;
            }
        }
        return steps;
    }

    @Test
    void withoutAnIntervalEveryNthStepReports() {
        assertEquals(List.of(1, 2, 3, 4, 5), reported(new ProgressPolicy(1, Duration.ZERO), 5, 1));
        assertEquals(List.of(3, 6, 7), reported(new ProgressPolicy(3, Duration.ZERO), 7, 1));
    }

    @Test
    void fastStepsReportAtMostOncePerIntervalAndAlwaysAtTheEnd() {
        // 10 ms steps, 100 ms interval: steps 10, 20, 30 and the last.
        assertEquals(List.of(10, 20, 30, 35), reported(new ProgressPolicy(1, Duration.ofMillis(100)), 35, 10));
        // A whole job faster than the interval reports its last step only (its start is reported separately).
        assertEquals(List.of(4), reported(new ProgressPolicy(1, Duration.ofMillis(100)), 4, 5));
    }

    @Test
    void slowStepsReportEveryStep() {
        assertEquals(List.of(1, 2, 3), reported(new ProgressPolicy(1, Duration.ofMillis(100)), 3, 2000));
    }

    @Test
    void theLastStepAlwaysReportsAndEveryIsAtLeastOne() {
        ProgressPolicy policy = new ProgressPolicy(0, Duration.ofHours(1));
        assertTrue(policy.due(9, 9, 0));
        assertFalse(policy.due(8, 9, 0));
        assertEquals(1, policy.every());
    }
}
