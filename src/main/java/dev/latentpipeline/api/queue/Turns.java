package dev.latentpipeline.api.queue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * When a job starts and ends if one UNet worker takes the jobs of its line in turns: the first in line runs a turn of
 * up to {@code stepsPerTurn} steps, then (if unfinished) goes to the back as a checkpoint, as sd.unet.checkpoint-every
 * makes it; {@code stepsPerTurn} 0 runs each job whole, first come first served.
 */
final class Turns {
    /** Beyond this many turns (tiny turns, a huge line) there is no estimate worth its cost. */
    static final int MAX_TURNS = 100_000;

    /** A job in line, oldest first: the steps it has left and what one of them costs. */
    record InLine(String id, int stepsLeft, double msPerStep) {
    }

    /** Milliseconds from now until the job's first step and until its last one. */
    record Forecast(double startMs, double endMs) {
    }

    private Turns() {
    }

    static Optional<Forecast> of(List<InLine> line, String id, int stepsPerTurn) {
        Deque<InLine> queue = new ArrayDeque<>(line);
        double now = 0;
        Double start = null;
        for (int turn = 0; turn < MAX_TURNS && !queue.isEmpty(); turn++) {
            InLine next = queue.removeFirst();
            boolean target = next.id().equals(id);
            if (target && start == null) {
                start = now;
            }
            int steps = stepsPerTurn > 0 ? Math.min(stepsPerTurn, next.stepsLeft()) : next.stepsLeft();
            now += steps * next.msPerStep();
            if (next.stepsLeft() > steps) {
                queue.addLast(new InLine(next.id(), next.stepsLeft() - steps, next.msPerStep()));
            } else if (target) {
                return Optional.of(new Forecast(start, now));
            }
        }
        return Optional.empty();
    }
}
