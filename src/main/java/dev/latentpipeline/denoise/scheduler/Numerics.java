package dev.latentpipeline.denoise.scheduler;

/** numpy-compatible helpers the schedulers share: linspace, arange, interp, Karras sigmas, sigma-to-timestep. */
final class Numerics {
    private Numerics() {
    }

    /** np.linspace(start, stop, num) in float64: i * step + start, last element exactly stop. */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 1) {
            y[0] = start;
            return y;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            y[i] = i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /** np.arange(start, stop, step) in float64, including numpy's length rule and delta = (start+step)-start. */
    static double[] arange(double start, double stop, double step) {
        int length = (int) Math.ceil((stop - start) / step);
        double[] y = new double[Math.max(length, 0)];
        double delta = (start + step) - start;
        for (int i = 0; i < y.length; i++) {
            y[i] = start + i * delta;
        }
        return y;
    }

    static double[] reversed(double[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[values.length - 1 - i];
        }
        return out;
    }

    /** np.interp(x, arange(len(fp)), fp), evaluated in float64. */
    static double[] interp(double[] x, float[] fp) {
        double[] out = new double[x.length];
        int last = fp.length - 1;
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            if (xi <= 0) {
                out[i] = fp[0];
            } else if (xi >= last) {
                out[i] = fp[last];
            } else {
                int j = (int) Math.floor(xi);
                double slope = ((double) fp[j + 1] - fp[j]);
                out[i] = slope * (xi - j) + fp[j];
            }
        }
        return out;
    }

    /** Karras et al. (2022) schedule with rho = 7, from sigmaMax down to sigmaMin. */
    static double[] karras(double sigmaMin, double sigmaMax, int n) {
        double rho = 7.0;
        double[] ramp = linspace(0, 1, n);
        double minInvRho = Math.pow(sigmaMin, 1 / rho);
        double maxInvRho = Math.pow(sigmaMax, 1 / rho);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        }
        return out;
    }

    /** float32 natural logs, like np.log on a float32 array. */
    static float[] logs(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) Math.log(values[i]);
        }
        return out;
    }

    /** diffusers' _sigma_to_t: the fractional training timestep whose log-sigma brackets log(sigma). */
    static double sigmaToT(double sigma, float[] logSigmas) {
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        // cumsum(dists >= 0).argmax(): the last index whose log-sigma is <= log(sigma), else 0
        int lastAtOrBelow = 0;
        for (int i = 0; i < logSigmas.length; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                lastAtOrBelow = i;
            }
        }
        int low = Math.min(lastAtOrBelow, logSigmas.length - 2);
        int high = low + 1;
        double lo = logSigmas[low];
        double hi = logSigmas[high];
        double w = (lo - logSigma) / (lo - hi);
        w = Math.min(Math.max(w, 0), 1);
        return (1 - w) * low + w * high;
    }

    /** np.linspace(start, stop, num, endpoint=False) in float64: i * ((stop - start) / num) + start. */
    static double[] linspaceExcludingStop(double start, double stop, int num) {
        double[] y = new double[num];
        double step = (stop - start) / num;
        for (int i = 0; i < num; i++) {
            y[i] = i * step + start;
        }
        return y;
    }

    /** A copy of what a scheduler kept from its latest step; refuses before the first step of a run. */
    static float[] copyAfterStep(float[] kept) {
        if (kept == null) {
            throw new IllegalStateException("no step yet: predictedOriginal() is valid after step()");
        }
        return kept.clone();
    }

    static void requireSameLength(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("length mismatch: " + a.length + " vs " + b.length);
        }
    }
}
