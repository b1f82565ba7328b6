package dev.latentpipeline.denoise.scheduler;

import java.util.Set;

/**
 * The training noise schedule, computed in float32 the way diffusers does with torch: betas, cumulative alpha
 * products and the k-diffusion sigmas {@code sqrt((1 - alphaBar) / alphaBar)}.
 */
final class NoiseSchedule {
    /** diffusers' betas when the config names none: 0.0001 to 0.02 linear for every class here but LCMScheduler. */
    record BetaDefaults(double start, double end, String schedule) {
        static final BetaDefaults DDPM = new BetaDefaults(0.0001, 0.02, "linear");
        static final BetaDefaults LCM = new BetaDefaults(0.00085, 0.012, "scaled_linear");
    }

    /** diffusers' prediction_type values, all of which {@link #predictOriginal} converts. */
    static final Set<String> PREDICTION_TYPES = Set.of("epsilon", "sample", "v_prediction");

    final String betaSchedule;
    final float[] betas;
    final float[] alphasCumprod;

    NoiseSchedule(SchedulerConfig config) {
        this(config, BetaDefaults.DDPM);
    }

    NoiseSchedule(SchedulerConfig config, BetaDefaults defaults) {
        int n = config.numTrainTimesteps();
        double start = config.betaStart() != null ? config.betaStart() : defaults.start();
        double end = config.betaEnd() != null ? config.betaEnd() : defaults.end();
        betaSchedule = config.betaSchedule() != null ? config.betaSchedule() : defaults.schedule();
        if (config.trainedBetas() != null) {
            betas = new float[config.trainedBetas().length];
            for (int i = 0; i < betas.length; i++) {
                betas[i] = (float) config.trainedBetas()[i];
            }
        } else {
            betas = switch (betaSchedule) {
                case "linear" -> torchLinspace(start, end, n);
                case "scaled_linear" -> square(torchLinspace(Math.sqrt(start), Math.sqrt(end), n));
                case "squaredcos_cap_v2" -> cosineBetas(n);
                default -> throw new IllegalArgumentException("unsupported beta_schedule " + betaSchedule);
            };
        }
        alphasCumprod = new float[betas.length];
        // torch.cumprod on CPU accumulates float32 in double and rounds each output
        double product = 1.0;
        for (int i = 0; i < betas.length; i++) {
            product *= (1.0f - betas[i]);
            alphasCumprod[i] = (float) product;
        }
    }

    /**
     * The training timesteps a DDIM-family scheduler visits for {@code steps} inference steps, ascending, spaced as
     * timestep_spacing says (diffusers' "linspace", "leading" or "trailing").
     */
    static int[] spacedTimesteps(SchedulerConfig config, int steps, String defaultSpacing) {
        int trainSteps = config.numTrainTimesteps();
        if (steps < 1 || steps > trainSteps) {
            throw new IllegalArgumentException("numInferenceSteps must be in 1.." + trainSteps + ", got " + steps);
        }
        String spacing = config.timestepSpacingOr(defaultSpacing);
        return switch (spacing) {
            case "linspace" -> {
                double[] lin = Numerics.linspace(0, trainSteps - 1, steps);
                int[] ts = new int[steps];
                for (int i = 0; i < steps; i++) {
                    ts[i] = (int) Math.rint(lin[i]);
                }
                yield ts;
            }
            case "leading" -> {
                int ratio = trainSteps / steps;
                int[] ts = new int[steps];
                for (int i = 0; i < steps; i++) {
                    ts[i] = i * ratio + config.stepsOffset();
                }
                yield ts;
            }
            case "trailing" -> {
                double[] ar = Numerics.arange(trainSteps, 0, -(double) trainSteps / steps);
                int[] ts = new int[ar.length];
                for (int i = 0; i < ar.length; i++) {
                    ts[i] = (int) Math.rint(ar[ar.length - 1 - i]) - 1;
                }
                if (ts[0] < 0) {
                    // np.arange's length rule gives some counts (61, 103, ... of 1000) one more element, -1e-13,
                    // which becomes timestep -1: diffusers then indexes alphas_cumprod[-1], the noisiest level
                    throw new IllegalArgumentException(steps + " steps with timestep_spacing trailing reach timestep -1"
                            + " (as in diffusers, from numpy's arange); choose another step count");
                }
                yield ts;
            }
            default -> throw new IllegalArgumentException("unsupported timestep_spacing " + spacing);
        };
    }

    /** alpha-bar at timestep t, or {@code finalAlphaCumprod} before the first training step (t < 0). */
    float alphaCumprodAt(int t, float finalAlphaCumprod) {
        return t >= 0 ? alphasCumprod[t] : finalAlphaCumprod;
    }

    int size() {
        return alphasCumprod.length;
    }

    /** Training sigmas, index = timestep, in float32 like {@code ((1 - ac) / ac) ** 0.5} in torch. */
    float[] sigmas() {
        float[] sigmas = new float[alphasCumprod.length];
        for (int i = 0; i < sigmas.length; i++) {
            float ac = alphasCumprod[i];
            sigmas[i] = (float) Math.sqrt((1.0f - ac) / ac);
        }
        return sigmas;
    }

    /** torch.linspace(start, end, n, dtype=float32): float32 step, filled from both ends. */
    static float[] torchLinspace(double start, double end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = (float) start;
            return out;
        }
        float s = (float) start;
        float e = (float) end;
        float step = (e - s) / (n - 1);
        int halfway = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < halfway ? s + step * i : e - step * (n - 1 - i);
        }
        return out;
    }

    private static float[] square(float[] values) {
        for (int i = 0; i < values.length; i++) {
            values[i] = values[i] * values[i];
        }
        return values;
    }

    /** diffusers' betas_for_alpha_bar with the Glide cosine alpha_bar, max_beta 0.999, computed in double. */
    private static float[] cosineBetas(int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double beta = 1.0 - alphaBar((i + 1.0) / n) / alphaBar((double) i / n);
            out[i] = (float) Math.min(beta, 0.999);
        }
        return out;
    }

    private static double alphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * x0 from a model output at alpha-bar {@code alphaProdT} per prediction_type, as DDIM's and LCM's step does it:
     * epsilon {@code (x - sqrt(1 - a) m) / sqrt(a)}, sample {@code m}, v_prediction {@code sqrt(a) x - sqrt(1 - a) m}.
     */
    static float[] predictOriginal(String predictionType, float[] modelOutput, float[] sample, float alphaProdT) {
        Numerics.requireSameLength(modelOutput, sample);
        float sqrtAlpha = (float) Math.sqrt(alphaProdT);
        float sqrtBeta = (float) Math.sqrt(1 - alphaProdT);
        float[] x0 = new float[sample.length];
        switch (predictionType) {
            case "epsilon" -> {
                for (int i = 0; i < x0.length; i++) {
                    x0[i] = (sample[i] - sqrtBeta * modelOutput[i]) / sqrtAlpha;
                }
            }
            case "sample" -> System.arraycopy(modelOutput, 0, x0, 0, x0.length);
            case "v_prediction" -> {
                for (int i = 0; i < x0.length; i++) {
                    x0[i] = sqrtAlpha * sample[i] - sqrtBeta * modelOutput[i];
                }
            }
            default -> throw new IllegalArgumentException("unsupported prediction_type " + predictionType);
        }
        return x0;
    }

    /** DDPM forward noising to training timestep t: sqrt(ac[t]) * x + sqrt(1 - ac[t]) * noise, in float32. */
    float[] addNoise(float[] original, float[] noise, int t) {
        Numerics.requireSameLength(original, noise);
        float ac = alphasCumprod[t];
        float signal = (float) Math.sqrt(ac);
        float noiseScale = (float) Math.sqrt(1.0f - ac);
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = signal * original[i] + noiseScale * noise[i];
        }
        return out;
    }
}
