package dev.latentpipeline.denoise.scheduler;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * diffusers' {@code scheduler/scheduler_config.json}. Keys shared by all schedulers get diffusers' defaults here;
 * keys whose default differs per scheduler class (beta_start, beta_end, beta_schedule, timestep_spacing,
 * set_alpha_to_one, clip_sample, final_sigmas_type, ...) stay {@code null} and each scheduler applies its own
 * default, exactly as diffusers does when a config written for one class is loaded into another.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SchedulerConfig(
        @JsonProperty("_class_name") String className,
        @JsonProperty("num_train_timesteps") Integer numTrainTimesteps,
        @JsonProperty("beta_start") Double betaStart,
        @JsonProperty("beta_end") Double betaEnd,
        @JsonProperty("beta_schedule") String betaSchedule,
        @JsonProperty("trained_betas") double[] trainedBetas,
        @JsonProperty("prediction_type") String predictionType,
        @JsonProperty("timestep_spacing") String timestepSpacing,
        @JsonProperty("steps_offset") Integer stepsOffset,
        @JsonProperty("set_alpha_to_one") Boolean setAlphaToOne,
        @JsonProperty("skip_prk_steps") Boolean skipPrkSteps,
        @JsonProperty("clip_sample") Boolean clipSample,
        @JsonProperty("clip_sample_range") Double clipSampleRange,
        @JsonProperty("use_karras_sigmas") Boolean useKarrasSigmas,
        @JsonProperty("sigma_min") Double sigmaMin,
        @JsonProperty("sigma_max") Double sigmaMax,
        @JsonProperty("final_sigmas_type") String finalSigmasType,
        @JsonProperty("solver_order") Integer solverOrder,
        @JsonProperty("algorithm_type") String algorithmType,
        @JsonProperty("solver_type") String solverType,
        @JsonProperty("lower_order_final") Boolean lowerOrderFinal,
        @JsonProperty("euler_at_final") Boolean eulerAtFinal,
        @JsonProperty("original_inference_steps") Integer originalInferenceSteps,
        @JsonProperty("timestep_scaling") Double timestepScaling,
        @JsonProperty("thresholding") Boolean thresholding,
        @JsonProperty("rescale_betas_zero_snr") Boolean rescaleBetasZeroSnr) {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public SchedulerConfig {
        numTrainTimesteps = numTrainTimesteps != null ? numTrainTimesteps : 1000;
        predictionType = predictionType != null ? predictionType : "epsilon";
        stepsOffset = stepsOffset != null ? stepsOffset : 0;
        clipSampleRange = clipSampleRange != null ? clipSampleRange : 1.0;
        useKarrasSigmas = useKarrasSigmas != null ? useKarrasSigmas : false;
        solverOrder = solverOrder != null ? solverOrder : 2;
        algorithmType = algorithmType != null ? algorithmType : "dpmsolver++";
        solverType = solverType != null ? solverType : "midpoint";
        lowerOrderFinal = lowerOrderFinal != null ? lowerOrderFinal : true;
        eulerAtFinal = eulerAtFinal != null ? eulerAtFinal : false;
        originalInferenceSteps = originalInferenceSteps != null ? originalInferenceSteps : 50;
        timestepScaling = timestepScaling != null ? timestepScaling : 10.0;
        thresholding = thresholding != null ? thresholding : false;
        rescaleBetasZeroSnr = rescaleBetasZeroSnr != null ? rescaleBetasZeroSnr : false;
        if (thresholding) {
            throw new IllegalArgumentException("thresholding is not supported");
        }
        if (rescaleBetasZeroSnr) {
            throw new IllegalArgumentException("rescale_betas_zero_snr is not supported");
        }
    }

    /** All defaults (diffusers' constructor defaults). */
    public static SchedulerConfig defaults() {
        return fromMap(Map.of());
    }

    /** From a map keyed by diffusers' config names, e.g. {@code Map.of("beta_schedule", "scaled_linear")}. */
    public static SchedulerConfig fromMap(Map<String, ?> values) {
        return MAPPER.convertValue(values, SchedulerConfig.class);
    }

    public static SchedulerConfig fromJson(String json) {
        try {
            return MAPPER.readValue(json, SchedulerConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid scheduler config: " + e.getMessage(), e);
        }
    }

    public static SchedulerConfig fromJson(Path file) {
        try {
            return MAPPER.readValue(file.toFile(), SchedulerConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read scheduler config " + file, e);
        }
    }

    /** A copy with some keys (diffusers names) replaced, like diffusers' {@code from_config(config, **kwargs)}. */
    public SchedulerConfig with(Map<String, ?> overrides) {
        Map<String, Object> values = new HashMap<>(MAPPER.convertValue(this, new TypeReference<Map<String, Object>>() { }));
        values.putAll(overrides);
        return fromMap(values);
    }

    String timestepSpacingOr(String schedulerDefault) {
        return timestepSpacing != null ? timestepSpacing : schedulerDefault;
    }
}
