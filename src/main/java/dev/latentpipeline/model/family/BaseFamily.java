package dev.latentpipeline.model.family;

import dev.latentpipeline.model.LatentScaling;
import java.util.OptionalInt;

/**
 * What every family here reads the same way from the export: the UNet config's geometry and guidance embedding,
 * the VAE config's scale factor and scaling, and the default image size diffusers derives from them.
 */
abstract class BaseFamily implements ModelFamily {
    protected final ExportConfigs configs;
    private final LatentScaling scaling;
    private final int defaultSize;

    /**
     * @param fallbackSampleSize diffusers' default_sample_size when unet/config.json has no sample_size
     * @param fallbackScalingFactor the family's VAE scaling_factor when the VAE config has none
     */
    BaseFamily(ExportConfigs configs, int fallbackSampleSize, float fallbackScalingFactor) {
        this.configs = configs;
        this.scaling = configs.latentScaling(fallbackScalingFactor);
        this.defaultSize = configs.unetInt("sample_size").orElse(fallbackSampleSize) * configs.vaeScaleFactor();
    }

    @Override
    public OptionalInt timeCondProjDim() {
        return configs.unetInt("time_cond_proj_dim").map(OptionalInt::of).orElse(OptionalInt.empty());
    }

    @Override
    public int latentChannels() {
        return configs.unetInt("in_channels").orElse(4);
    }

    @Override
    public int vaeScaleFactor() {
        return configs.vaeScaleFactor();
    }

    @Override
    public LatentScaling latentScaling() {
        return scaling;
    }

    @Override
    public boolean vaeForceUpcast() {
        return configs.vaeForceUpcast();
    }

    /** diffusers: height or unet.config.sample_size * vae_scale_factor (the UNet's square native size). */
    @Override
    public int defaultWidth() {
        return defaultSize;
    }

    @Override
    public int defaultHeight() {
        return defaultSize;
    }

    @Override
    public String toString() {
        return name() + " (" + configs.layout().root() + ")";
    }
}
