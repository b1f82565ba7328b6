package dev.latentpipeline.denoise.scheduler;

/**
 * diffusers' DPMSolverMultistepScheduler restricted to algorithm_type "dpmsolver++" (DPM-Solver++ 2M with
 * solver_order 2, or 1): multistep updates on the data prediction x0 in log-SNR (lambda) time.
 * Honours solver_type midpoint/heun, lower_order_final, euler_at_final, final_sigmas_type (default "zero") and
 * use_karras_sigmas (timesteps rounded to integers, sigmas kept exact). Default timestep_spacing "linspace".
 */
public final class DpmSolverMultistepScheduler implements Scheduler {
    private final SchedulerConfig config;
    private final NoiseSchedule schedule;
    private final int solverOrder;
    private int[] timesteps;
    private float[] sigmas;

    private final float[][] modelOutputs; // newest last
    private int lowerOrderNums;
    private float[] lastPredictedOriginal;

    public DpmSolverMultistepScheduler(SchedulerConfig config) {
        if (!config.algorithmType().equals("dpmsolver++")) {
            throw new IllegalArgumentException("only algorithm_type dpmsolver++ is supported, got " + config.algorithmType());
        }
        if (config.solverOrder() < 1 || config.solverOrder() > 2) {
            throw new IllegalArgumentException("solver_order must be 1 or 2, got " + config.solverOrder());
        }
        if (!config.solverType().equals("midpoint") && !config.solverType().equals("heun")) {
            throw new IllegalArgumentException("unsupported solver_type " + config.solverType());
        }
        this.config = config;
        this.schedule = new NoiseSchedule(config);
        this.solverOrder = config.solverOrder();
        this.modelOutputs = new float[solverOrder][];
    }

    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    @Override
    public void setTimesteps(int steps) {
        int trainSteps = config.numTrainTimesteps();
        if (steps < 1) {
            throw new IllegalArgumentException("numInferenceSteps must be >= 1, got " + steps);
        }
        int lastTimestep = trainSteps; // lambda_min_clipped = -inf clips nothing
        String spacing = config.timestepSpacingOr("linspace");
        double[] ts = switch (spacing) {
            case "linspace" -> {
                double[] lin = Numerics.linspace(0, lastTimestep - 1, steps + 1);
                double[] out = new double[steps];
                for (int i = 0; i < steps; i++) {
                    out[i] = Math.rint(lin[steps - i]);
                }
                yield out;
            }
            case "leading" -> {
                int ratio = lastTimestep / (steps + 1);
                double[] out = new double[steps];
                for (int i = 0; i < steps; i++) {
                    out[i] = (double) (steps - i) * ratio + config.stepsOffset();
                }
                yield out;
            }
            case "trailing" -> {
                double[] out = Numerics.arange(lastTimestep, 0, -(double) trainSteps / steps);
                for (int i = 0; i < out.length; i++) {
                    out[i] = Math.rint(out[i]) - 1;
                }
                yield out;
            }
            default -> throw new IllegalArgumentException("unsupported timestep_spacing " + spacing);
        };
        float[] trainingSigmas = schedule.sigmas();
        double[] s;
        if (config.useKarrasSigmas()) {
            s = Numerics.karras(trainingSigmas[0], trainingSigmas[trainingSigmas.length - 1], steps);
            float[] logSigmas = Numerics.logs(trainingSigmas);
            ts = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                double t = Numerics.sigmaToT(s[i], logSigmas);
                ts[i] = schedule.betaSchedule.equals("squaredcos_cap_v2") ? t : Math.rint(t);
            }
        } else {
            s = Numerics.interp(ts, trainingSigmas);
        }
        String finalType = finalSigmasType();
        double sigmaLast = switch (finalType) {
            case "zero" -> 0.0;
            case "sigma_min" -> trainingSigmas[0];
            default -> throw new IllegalArgumentException("unsupported final_sigmas_type " + finalType);
        };
        sigmas = new float[s.length + 1];
        for (int i = 0; i < s.length; i++) {
            sigmas[i] = (float) s[i];
        }
        sigmas[s.length] = (float) sigmaLast;
        timesteps = new int[ts.length];
        for (int i = 0; i < ts.length; i++) {
            timesteps[i] = (int) ts[i]; // astype(int64) truncates; only cosine schedules keep fractions
        }
        java.util.Arrays.fill(modelOutputs, null);
        lowerOrderNums = 0;
        lastPredictedOriginal = null;
    }

    @Override
    public double[] timesteps() {
        requireTimesteps();
        double[] out = new double[timesteps.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = timesteps[i];
        }
        return out;
    }

    /** The sigma schedule, one longer than timesteps(). */
    public float[] sigmas() {
        requireTimesteps();
        return sigmas.clone();
    }

    @Override
    public float[] scaleModelInput(float[] sample, int stepIndex) {
        return sample;
    }

    private String finalSigmasType() {
        return config.finalSigmasType() != null ? config.finalSigmasType() : "zero";
    }

    /** alpha_t = 1/sqrt(sigma^2+1), sigma_t = sigma * alpha_t (VP parameterisation). */
    private static double alpha(double sigma) {
        return 1.0 / Math.sqrt(sigma * sigma + 1.0);
    }

    private static double lambda(double sigma) {
        double a = alpha(sigma);
        return Math.log(a) - Math.log(sigma * a); // +inf at sigma 0
    }

    @Override
    public float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        requireTimesteps();
        Numerics.requireSameLength(modelOutput, sample);
        int count = timesteps.length;
        boolean lowerOrderFinal = stepIndex == count - 1
                && (config.eulerAtFinal() || (config.lowerOrderFinal() && count < 15) || finalSigmasType().equals("zero"));
        boolean lowerOrderSecond = stepIndex == count - 2 && config.lowerOrderFinal() && count < 15;

        float[] x0 = dataPrediction(modelOutput, sample, sigmas[stepIndex]);
        for (int i = 0; i < solverOrder - 1; i++) {
            modelOutputs[i] = modelOutputs[i + 1];
        }
        modelOutputs[solverOrder - 1] = x0;
        lastPredictedOriginal = x0;

        float[] prev;
        if (solverOrder == 1 || lowerOrderNums < 1 || lowerOrderFinal) {
            prev = firstOrder(x0, stepIndex, sample);
        } else {
            prev = secondOrder(stepIndex, sample);
        }
        if (lowerOrderNums < solverOrder) {
            lowerOrderNums++;
        }
        return prev;
    }

    private float[] dataPrediction(float[] modelOutput, float[] sample, float sigma) {
        float alphaT = (float) alpha(sigma);
        float sigmaT = sigma * alphaT;
        float[] x0 = new float[sample.length];
        switch (config.predictionType()) {
            case "epsilon" -> {
                for (int i = 0; i < x0.length; i++) {
                    x0[i] = (sample[i] - sigmaT * modelOutput[i]) / alphaT;
                }
            }
            case "sample" -> System.arraycopy(modelOutput, 0, x0, 0, x0.length);
            case "v_prediction" -> {
                for (int i = 0; i < x0.length; i++) {
                    x0[i] = alphaT * sample[i] - sigmaT * modelOutput[i];
                }
            }
            default -> throw new IllegalArgumentException("unsupported prediction_type " + config.predictionType());
        }
        return x0;
    }

    private float[] firstOrder(float[] x0, int stepIndex, float[] sample) {
        double sigmaTo = sigmas[stepIndex + 1];
        double sigmaFrom = sigmas[stepIndex];
        double alphaT = alpha(sigmaTo);
        double h = lambda(sigmaTo) - lambda(sigmaFrom);
        float sampleCoeff = (float) ((sigmaTo * alphaT) / (sigmaFrom * alpha(sigmaFrom)));
        float x0Coeff = (float) (-alphaT * Math.expm1(-h));
        float[] prev = new float[sample.length];
        for (int i = 0; i < prev.length; i++) {
            prev[i] = sampleCoeff * sample[i] + x0Coeff * x0[i];
        }
        return prev;
    }

    private float[] secondOrder(int stepIndex, float[] sample) {
        double sigmaTo = sigmas[stepIndex + 1];
        double sigmaS0 = sigmas[stepIndex];
        double sigmaS1 = sigmas[stepIndex - 1];
        float[] m0 = modelOutputs[solverOrder - 1];
        float[] m1 = modelOutputs[solverOrder - 2];
        double alphaT = alpha(sigmaTo);
        double lambdaT = lambda(sigmaTo);
        double lambdaS0 = lambda(sigmaS0);
        double lambdaS1 = lambda(sigmaS1);
        double h = lambdaT - lambdaS0;
        double r0 = (lambdaS0 - lambdaS1) / h;
        double em1 = Math.expm1(-h); // exp(-h) - 1
        float sampleCoeff = (float) ((sigmaTo * alphaT) / (sigmaS0 * alpha(sigmaS0)));
        float d0Coeff = (float) (-alphaT * em1);
        float d1Coeff = config.solverType().equals("midpoint")
                ? (float) (-0.5 * alphaT * em1)
                : (float) (alphaT * (em1 / h + 1.0));
        float invR0 = (float) (1.0 / r0);
        float[] prev = new float[sample.length];
        for (int i = 0; i < prev.length; i++) {
            float d1 = invR0 * (m0[i] - m1[i]);
            prev[i] = sampleCoeff * sample[i] + d0Coeff * m0[i] + d1Coeff * d1;
        }
        return prev;
    }

    /** The data prediction of this step's model output (convert_model_output), the x0 the solver steps with. */
    @Override
    public float[] predictedOriginal() {
        return Numerics.copyAfterStep(lastPredictedOriginal);
    }

    @Override
    public float[] addNoise(float[] original, float[] noise, int stepIndex) {
        requireTimesteps();
        Numerics.requireSameLength(original, noise);
        double sigma = sigmas[stepIndex];
        float alphaT = (float) alpha(sigma);
        float sigmaT = (float) (sigma * alphaT);
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = alphaT * original[i] + sigmaT * noise[i];
        }
        return out;
    }

    @Override
    public int order() {
        return 1;
    }

    @Override
    public SchedulerState snapshot() {
        SchedulerState.Builder state = new SchedulerState.Builder().number("lower_order_nums", lowerOrderNums);
        for (int k = 0; k < modelOutputs.length; k++) {
            state.array("model_output." + k, modelOutputs[k]);
        }
        return state.build();
    }

    @Override
    public void restore(SchedulerState state) {
        requireTimesteps();
        lowerOrderNums = (int) state.number("lower_order_nums", 0);
        for (int k = 0; k < modelOutputs.length; k++) {
            modelOutputs[k] = state.array("model_output." + k);
        }
    }

    private void requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps first");
        }
    }
}
