package dev.latentpipeline.denoise.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' LMSDiscreteScheduler: linear multistep (order up to 4) over the ODE derivatives in sigma space.
 * diffusers integrates the Lagrange basis polynomials with scipy.integrate.quad; they are polynomials of degree
 * at most 3, so a 4-point Gauss-Legendre rule integrates them exactly (to rounding).
 */
public final class LmsDiscreteScheduler extends SigmaScheduler {
    private static final int ORDER = 4;
    private static final double[] GL_NODES = {
        -0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
    private static final double[] GL_WEIGHTS = {
        0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};

    private final List<float[]> derivatives = new ArrayList<>();

    public LmsDiscreteScheduler(SchedulerConfig config) {
        super(config);
    }

    @Override
    protected boolean supportsKarras() {
        return true;
    }

    @Override
    protected void reset() {
        derivatives.clear();
    }

    @Override
    public SchedulerState snapshot() {
        SchedulerState.Builder state = new SchedulerState.Builder().number("derivatives", derivatives.size());
        for (int k = 0; k < derivatives.size(); k++) {
            state.array("derivative." + k, derivatives.get(k));
        }
        return state.build();
    }

    @Override
    public void restore(SchedulerState state) {
        requireTimesteps();
        derivatives.clear();
        for (int k = 0; k < state.number("derivatives", 0); k++) {
            derivatives.add(state.array("derivative." + k));
        }
    }

    @Override
    public float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        float sigma = sigmaAt(stepIndex);
        float[] denoised = denoise(modelOutput, sample, sigma);
        float[] derivative = new float[sample.length];
        for (int i = 0; i < derivative.length; i++) {
            derivative[i] = (sample[i] - denoised[i]) / sigma;
        }
        derivatives.add(derivative);
        if (derivatives.size() > ORDER) {
            derivatives.remove(0);
        }
        // as diffusers: the order follows the step index, while zip() pairs coefficients with the newest derivatives
        int order = Math.min(stepIndex + 1, ORDER);
        int terms = Math.min(order, derivatives.size());
        float[] prev = sample.clone();
        for (int k = 0; k < terms; k++) {
            float coeff = (float) lmsCoefficient(order, stepIndex, k);
            float[] d = derivatives.get(derivatives.size() - 1 - k);
            for (int i = 0; i < prev.length; i++) {
                prev[i] += coeff * d[i];
            }
        }
        return prev;
    }

    /** Integral from sigma[t] to sigma[t+1] of the Lagrange basis polynomial for node t - current. */
    double lmsCoefficient(int order, int t, int current) {
        double a = sigmas[t];
        double b = sigmas[t + 1];
        double half = (b - a) / 2;
        double mid = (a + b) / 2;
        double sum = 0;
        for (int q = 0; q < GL_NODES.length; q++) {
            double tau = mid + half * GL_NODES[q];
            double prod = 1.0;
            for (int k = 0; k < order; k++) {
                if (k != current) {
                    prod *= (tau - sigmas[t - k]) / ((double) sigmas[t - current] - sigmas[t - k]);
                }
            }
            sum += GL_WEIGHTS[q] * prod;
        }
        return sum * half;
    }
}
