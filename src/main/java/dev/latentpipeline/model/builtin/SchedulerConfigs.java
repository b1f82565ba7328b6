package dev.latentpipeline.model.builtin;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The scheduler_config.json contents real models ship, on SD's training schedule (scaled_linear, 0.00085 to 0.012,
 * 1000 steps, which SD 1.x, SDXL and their LCM distillations share): keys in diffusers' alphabetical order.
 */
final class SchedulerConfigs {
    private SchedulerConfigs() {
    }

    /** SD 1.5's PNDMScheduler config. */
    static Map<String, Object> pndm(String predictionType) {
        Map<String, Object> s = header("PNDMScheduler");
        s.put("beta_end", NoiseSchedule.BETA_END);
        s.put("beta_schedule", "scaled_linear");
        s.put("beta_start", NoiseSchedule.BETA_START);
        s.put("clip_sample", false);
        s.put("num_train_timesteps", NoiseSchedule.TRAIN_TIMESTEPS);
        s.put("prediction_type", predictionType);
        s.put("set_alpha_to_one", false);
        s.put("skip_prk_steps", true);
        s.put("steps_offset", 1);
        s.put("timestep_spacing", "leading");
        s.put("trained_betas", null);
        return s;
    }

    /** stable-diffusion-xl-base-1.0's EulerDiscreteScheduler config (leading spacing, steps_offset 1). */
    static Map<String, Object> euler(String predictionType) {
        Map<String, Object> s = header("EulerDiscreteScheduler");
        s.put("beta_end", NoiseSchedule.BETA_END);
        s.put("beta_schedule", "scaled_linear");
        s.put("beta_start", NoiseSchedule.BETA_START);
        s.put("clip_sample", false);
        s.put("interpolation_type", "linear");
        s.put("num_train_timesteps", NoiseSchedule.TRAIN_TIMESTEPS);
        s.put("prediction_type", predictionType);
        s.put("sample_max_value", 1.0);
        s.put("set_alpha_to_one", false);
        s.put("skip_prk_steps", true);
        s.put("steps_offset", 1);
        s.put("timestep_spacing", "leading");
        s.put("trained_betas", null);
        s.put("use_karras_sigmas", false);
        return s;
    }

    /**
     * An LCMScheduler config as LCM-distilled models ship it: every key of diffusers' LCMScheduler.__init__, with
     * SD's betas, original_inference_steps 50, timestep_scaling 10 and set_alpha_to_one true (its defaults) and
     * steps_offset 1 (carried over from the SD config they were distilled from).
     */
    static Map<String, Object> lcm(String predictionType) {
        Map<String, Object> s = header("LCMScheduler");
        s.put("beta_end", NoiseSchedule.BETA_END);
        s.put("beta_schedule", "scaled_linear");
        s.put("beta_start", NoiseSchedule.BETA_START);
        s.put("clip_sample", false);
        s.put("clip_sample_range", 1.0);
        s.put("dynamic_thresholding_ratio", 0.995);
        s.put("num_train_timesteps", NoiseSchedule.TRAIN_TIMESTEPS);
        s.put("original_inference_steps", 50);
        s.put("prediction_type", predictionType);
        s.put("rescale_betas_zero_snr", false);
        s.put("sample_max_value", 1.0);
        s.put("set_alpha_to_one", true);
        s.put("steps_offset", 1);
        s.put("thresholding", false);
        s.put("timestep_scaling", 10.0);
        s.put("timestep_spacing", "leading");
        s.put("trained_betas", null);
        return s;
    }

    private static Map<String, Object> header(String className) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("_class_name", className);
        s.put("_diffusers_version", ExportFiles.DIFFUSERS_VERSION);
        return s;
    }
}
