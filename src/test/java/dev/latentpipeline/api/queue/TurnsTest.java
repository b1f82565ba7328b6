package dev.latentpipeline.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The line played forward, against schedules worked out by hand. */
class TurnsTest {
    private static final List<Turns.InLine> LINE = List.of(
            new Turns.InLine("running", 25, 10), // 250 ms left
            new Turns.InLine("a", 30, 20), // 600 ms
            new Turns.InLine("b", 10, 5)); // 50 ms

    @Test
    void wholeLoopsAreFirstComeFirstServed() {
        Turns.Forecast a = Turns.of(LINE, "a", 0).orElseThrow();
        assertEquals(250, a.startMs());
        assertEquals(850, a.endMs());
        Turns.Forecast b = Turns.of(LINE, "b", 0).orElseThrow();
        assertEquals(850, b.startMs());
        assertEquals(900, b.endMs());
    }

    @Test
    void checkpointHopsTakeTurns() {
        // Turns of 10 steps: running 0-100, a 100-300, b 300-350 (done), running 350-450, a 450-650, running
        // 650-700 (done), a 700-900 (done).
        Turns.Forecast b = Turns.of(LINE, "b", 10).orElseThrow();
        assertEquals(300, b.startMs());
        assertEquals(350, b.endMs());
        Turns.Forecast a = Turns.of(LINE, "a", 10).orElseThrow();
        assertEquals(100, a.startMs());
        assertEquals(900, a.endMs());
    }

    @Test
    void aJobNotInLineHasNoForecastAndTinyTurnsGiveUp() {
        assertTrue(Turns.of(LINE, "absent", 10).isEmpty());
        assertTrue(Turns.of(List.of(new Turns.InLine("long", Turns.MAX_TURNS + 1, 1)), "long", 1).isEmpty());
    }
}
