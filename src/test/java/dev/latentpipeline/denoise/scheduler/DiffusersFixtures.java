package dev.latentpipeline.denoise.scheduler;

/**
 * The deterministic fixtures of diffusers' tests/schedulers/test_schedulers.py (SchedulerCommonTest), flattened.
 * dummy_sample_deter is arange(768) / 768 and dummy_noise_deter is arange(768).flip / 768, both reshaped and
 * permuted the same way; schedulers and the dummy model are elementwise and the checks are sums of |x|, so the
 * permutation does not matter: element j pairs sample j/768 with noise (767 - j)/768.
 */
final class DiffusersFixtures {
    static final int NUM_ELEMS = 4 * 3 * 8 * 8;

    private DiffusersFixtures() {
    }

    static float[] dummySampleDeter() {
        float[] out = new float[NUM_ELEMS];
        for (int j = 0; j < NUM_ELEMS; j++) {
            out[j] = (float) j / NUM_ELEMS;
        }
        return out;
    }

    static float[] dummyNoiseDeter() {
        float[] out = new float[NUM_ELEMS];
        for (int j = 0; j < NUM_ELEMS; j++) {
            out[j] = (float) (NUM_ELEMS - 1 - j) / NUM_ELEMS;
        }
        return out;
    }

    /**
     * dummy_sample_deter element by element in its logical C order [batch 4, channel 3, h 8, w 8], which is how a
     * noise tensor drawn for its shape pairs with it: arange(768) reshaped to (channel, h, w, batch) and permuted,
     * so element [b, c, y, x] is (((c * 8 + y) * 8 + x) * 4 + b) / 768.
     */
    static float[] dummySampleDeterInTensorOrder() {
        float[] out = new float[NUM_ELEMS];
        int i = 0;
        for (int b = 0; b < 4; b++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        out[i++] = (float) ((((c * 8 + y) * 8 + x) * 4) + b) / NUM_ELEMS;
                    }
                }
            }
        }
        return out;
    }

    /** dummy_model: sample * t / (t + 1), with t cast to the sample's float32. */
    static float[] dummyModel(float[] sample, double timestep) {
        float t = (float) timestep;
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sample[i] * t / (t + 1f);
        }
        return out;
    }

    static float[] scale(float[] x, float s) {
        float[] out = new float[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = x[i] * s;
        }
        return out;
    }

    static double sumAbs(float[] x) {
        double sum = 0;
        for (float v : x) {
            sum += Math.abs(v);
        }
        return sum;
    }

    static double meanAbs(float[] x) {
        return sumAbs(x) / x.length;
    }

    /**
     * diffusers' full loop: sample (already multiplied by init_noise_sigma if the test does so), then for each
     * timestep from startIndex: scale input, dummy model, step. Optionally noised with dummy_noise_deter at startIndex.
     */
    static float[] fullLoop(Scheduler scheduler, float[] sample, int startIndex, boolean addNoise) {
        double[] ts = scheduler.timesteps();
        if (addNoise) {
            sample = scheduler.addNoise(sample, dummyNoiseDeter(), startIndex);
        }
        for (int i = startIndex; i < ts.length; i++) {
            float[] input = scheduler.scaleModelInput(sample, i);
            float[] output = dummyModel(input, ts[i]);
            sample = scheduler.step(output, i, input);
        }
        return sample;
    }

    /**
     * alpha-bar at training timestep t in double precision, straight from the beta formulas (independent of
     * NoiseSchedule's float32 torch emulation): linear beta_i = s + (e - s) i / (T - 1), scaled_linear the square of
     * the same line between sqrt(s) and sqrt(e); alpha-bar_t = prod_{i <= t} (1 - beta_i).
     */
    static double alphaBar(double betaStart, double betaEnd, boolean scaledLinear, int trainSteps, int t) {
        double product = 1;
        for (int i = 0; i <= t; i++) {
            double beta;
            if (scaledLinear) {
                double root = Math.sqrt(betaStart) + (Math.sqrt(betaEnd) - Math.sqrt(betaStart)) * i / (trainSteps - 1);
                beta = root * root;
            } else {
                beta = betaStart + (betaEnd - betaStart) * i / (trainSteps - 1);
            }
            product *= 1 - beta;
        }
        return product;
    }

    /** alpha-bar of Stable Diffusion's schedule (0.00085 to 0.012 scaled_linear, 1000 steps). */
    static double sdAlphaBar(int t) {
        return alphaBar(0.00085, 0.012, true, 1000, t);
    }

    static SchedulerConfig config(Object... keyValues) {
        java.util.Map<String, Object> map = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return SchedulerConfig.fromMap(map);
    }
}
