package dev.latentpipeline.model.builtin;

/** The training noise schedule's sigmas, computed in double from the scheduler config's numbers (README). */
final class TrainingSigmas {
    private static final double[] TABLE = table();

    private TrainingSigmas() {
    }

    /** sigma_t for t = 0..999 from betas = linspace(sqrt(0.00085), sqrt(0.012), 1000)^2. */
    private static double[] table() {
        double[] sigmas = new double[1000];
        double alphaBar = 1;
        for (int t = 0; t < 1000; t++) {
            double root = Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) * t / 999;
            alphaBar *= 1 - root * root;
            sigmas[t] = Math.sqrt((1 - alphaBar) / alphaBar);
        }
        return sigmas;
    }

    /** sigma at a (fractional) timestep: linear interpolation, t clamped to [0, 999]. */
    static double at(double t) {
        double clamped = Math.min(999, Math.max(0, t));
        int lo = (int) Math.floor(clamped);
        int hi = (int) Math.ceil(clamped);
        return TABLE[lo] + (clamped - lo) * (TABLE[hi] - TABLE[lo]);
    }
}
