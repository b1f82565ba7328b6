package dev.latentpipeline.denoise.scheduler;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Creates schedulers by short name, and maps diffusers class names to those names. */
public final class Schedulers {
    public static final List<String> NAMES = List.of(
            "pndm", "ddim", "euler", "euler_a", "lms", "dpmpp_2m", "dpmpp_2m_karras", "lcm");

    private static final Map<String, String> BY_CLASS = Map.of(
            "PNDMScheduler", "pndm",
            "DDIMScheduler", "ddim",
            "EulerDiscreteScheduler", "euler",
            "EulerAncestralDiscreteScheduler", "euler_a",
            "LMSDiscreteScheduler", "lms",
            "DPMSolverMultistepScheduler", "dpmpp_2m",
            "LCMScheduler", "lcm");

    private Schedulers() {
    }

    /**
     * A new scheduler. {@code noise} is used by the stochastic ones (euler_a, lcm) and may be
     * {@link NoiseSource#NONE} for the others. ddim is created with eta 0; use {@link DdimScheduler} directly for eta > 0.
     */
    public static Scheduler create(String name, SchedulerConfig config, NoiseSource noise) {
        return switch (name) {
            case "pndm" -> new PndmScheduler(config);
            case "ddim" -> new DdimScheduler(config);
            case "euler" -> new EulerDiscreteScheduler(config);
            case "euler_a" -> new EulerAncestralDiscreteScheduler(config, noise);
            case "lms" -> new LmsDiscreteScheduler(config);
            case "dpmpp_2m" -> new DpmSolverMultistepScheduler(config);
            case "dpmpp_2m_karras" -> new DpmSolverMultistepScheduler(config.with(Map.of("use_karras_sigmas", true)));
            case "lcm" -> new LcmScheduler(config, noise);
            default -> throw new IllegalArgumentException(
                    "unknown scheduler '" + name + "'; valid names: " + String.join(", ", NAMES));
        };
    }

    /** Our name for a diffusers scheduler class (the config's {@code _class_name}), if we implement it. */
    public static Optional<String> nameForClass(String diffusersClassName) {
        return Optional.ofNullable(BY_CLASS.get(diffusersClassName));
    }

    /** The model's default scheduler name from its scheduler config, if we implement its class. */
    public static Optional<String> defaultName(SchedulerConfig config) {
        if (config.className() == null) {
            return Optional.empty();
        }
        return nameForClass(config.className())
                .map(n -> n.equals("dpmpp_2m") && config.useKarrasSigmas() ? "dpmpp_2m_karras" : n);
    }

    /**
     * diffusers' img2img start: {@code init = min(int(steps * strength), steps)}, {@code tStart = max(steps - init, 0)};
     * denoising runs from index {@code tStart * order} of timesteps(), and addNoise uses that index.
     */
    public static int img2imgStartIndex(int numInferenceSteps, double strength, int order) {
        requireStrength(strength);
        int init = Math.min((int) (numInferenceSteps * strength), numInferenceSteps);
        return Math.max(numInferenceSteps - init, 0) * order;
    }

    static void requireStrength(double strength) {
        if (!(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
        }
    }
}
