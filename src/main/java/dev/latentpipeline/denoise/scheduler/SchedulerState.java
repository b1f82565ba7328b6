package dev.latentpipeline.denoise.scheduler;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a scheduler remembers between steps (multistep history and counters), so a loop can be stopped after any
 * step and continued elsewhere bit for bit: {@code setTimesteps(n)} on a fresh scheduler, then {@link
 * Scheduler#restore}. Arrays are flat latents; stateless schedulers use {@link #EMPTY}.
 */
public record SchedulerState(Map<String, float[]> arrays, Map<String, Long> numbers) {
    public static final SchedulerState EMPTY = new SchedulerState(Map.of(), Map.of());

    public SchedulerState {
        arrays = Collections.unmodifiableMap(new LinkedHashMap<>(arrays));
        numbers = Collections.unmodifiableMap(new LinkedHashMap<>(numbers));
    }

    /** A named array, or null when the scheduler had none at that point (e.g. no history yet). */
    public float[] array(String name) {
        float[] a = arrays.get(name);
        return a == null ? null : a.clone();
    }

    public long number(String name, long fallback) {
        return numbers.getOrDefault(name, fallback);
    }

    /** Builds a state; null arrays are left out, so restoring them yields null again. */
    public static final class Builder {
        private final Map<String, float[]> arrays = new LinkedHashMap<>();
        private final Map<String, Long> numbers = new LinkedHashMap<>();

        public Builder array(String name, float[] value) {
            if (value != null) {
                arrays.put(name, value.clone());
            }
            return this;
        }

        public Builder number(String name, long value) {
            numbers.put(name, value);
            return this;
        }

        public SchedulerState build() {
            return new SchedulerState(arrays, numbers);
        }
    }
}
