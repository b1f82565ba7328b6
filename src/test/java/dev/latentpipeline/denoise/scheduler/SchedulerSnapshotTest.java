package dev.latentpipeline.denoise.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Stopping a loop after any step and continuing on a fresh scheduler (setTimesteps, restore) gives the same
 * latents bit for bit as never stopping: what a checkpoint hop between workers relies on. The stand-in model's
 * output depends on the sample and the timestep, so lost multistep history or a shifted noise stream shows.
 */
class SchedulerSnapshotTest {
    private static final int STEPS = 12;
    private static final int SIZE = 64;

    static Iterable<String> names() {
        return Schedulers.NAMES;
    }

    /** A deterministic stand-in for the UNet: mixes the sample with a timestep-dependent pattern. */
    private static float[] model(float[] sample, double t) {
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = 0.3f * sample[i] + (float) Math.sin(0.01 * t + i);
        }
        return out;
    }

    private static Scheduler create(String name, NumpyRandomState noise) {
        Scheduler s = Schedulers.create(name, SchedulerConfig.fromJson(SchedulerContractTest.SD15_CONFIG), noise);
        s.setTimesteps(STEPS);
        return s;
    }

    private static float[] initial(NumpyRandomState noise, Scheduler s) {
        float[] x = new float[SIZE];
        noise.fillGaussian(x);
        for (int i = 0; i < x.length; i++) {
            x[i] *= s.initNoiseSigma();
        }
        return x;
    }

    private static float[] steps(Scheduler s, float[] x, int from, int to) {
        double[] ts = s.timesteps();
        for (int i = from; i < to; i++) {
            x = s.step(model(s.scaleModelInput(x, i), ts[i]), i, x);
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("names")
    void resumingFromASnapshotMatchesAnUninterruptedRun(String name) {
        NumpyRandomState noise = new NumpyRandomState(42);
        Scheduler whole = create(name, noise);
        int total = whole.timesteps().length;
        float[] expected = steps(whole, initial(noise, whole), 0, total);

        for (int stop = 1; stop < total; stop++) {
            NumpyRandomState firstNoise = new NumpyRandomState(42);
            Scheduler first = create(name, firstNoise);
            float[] x = steps(first, initial(firstNoise, first), 0, stop);
            SchedulerState state = first.snapshot();
            NumpyRandomState.State noiseState = firstNoise.state();

            NumpyRandomState resumedNoise = NumpyRandomState.fromState(noiseState);
            Scheduler resumed = create(name, resumedNoise);
            resumed.restore(state);
            float[] got = steps(resumed, x.clone(), stop, total);
            assertArrayEquals(expected, got, name + " resumed after step " + stop);
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void withoutTheSnapshotAMultistepSchedulerDiverges(String name) {
        // Guards the test above: for multistep schedulers, dropping the state must make a difference.
        if (!Arrays.asList("pndm", "lms", "dpmpp_2m", "dpmpp_2m_karras").contains(name)) {
            return;
        }
        NumpyRandomState noise = new NumpyRandomState(42);
        Scheduler whole = create(name, noise);
        int total = whole.timesteps().length;
        float[] expected = steps(whole, initial(noise, whole), 0, total);
        NumpyRandomState n2 = new NumpyRandomState(42);
        Scheduler first = create(name, n2);
        float[] x = steps(first, initial(n2, first), 0, total / 2);
        float[] got = steps(create(name, n2), x, total / 2, total);
        assertFalse(Arrays.equals(expected, got), name + " gave the same result without its history");
    }
}
