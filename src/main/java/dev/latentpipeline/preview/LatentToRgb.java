package dev.latentpipeline.preview;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.image.BufferedImage;

/**
 * The cheap preview: each latent pixel's 4 channels mapped linearly to RGB, one image pixel per latent pixel (1/8
 * of the image's size). The factors are published facts about each latent space (ComfyUI's latent_formats.py; A1111
 * uses the same); they apply to latents as the UNet sees them (already times the VAE scaling factor) and give values
 * in about [-1, 1].
 */
record LatentToRgb(String name, float[][] factors, float[] bias) {

    /** SD 1.x and 2.x latents. */
    static final LatentToRgb SD = new LatentToRgb("sd", new float[][] {
        {0.3512f, 0.2297f, 0.3227f},
        {0.3250f, 0.4974f, 0.2350f},
        {-0.2829f, 0.1762f, 0.2721f},
        {-0.2120f, -0.2616f, -0.7177f}}, new float[] {0, 0, 0});

    /** SDXL latents. */
    static final LatentToRgb SDXL = new LatentToRgb("sdxl", new float[][] {
        {0.3651f, 0.4232f, 0.4341f},
        {-0.2533f, -0.0042f, 0.1068f},
        {0.1076f, 0.1111f, -0.0362f},
        {-0.3165f, -0.2492f, -0.2188f}}, new float[] {0.1084f, -0.0175f, -0.0011f});

    /** Image {@code index} of latents [n, 4, h, w] as an h x w RGB image. */
    BufferedImage render(FloatTensor latents, int index) {
        int channels = Math.toIntExact(latents.dim(1));
        if (channels != factors.length) {
            throw new IllegalArgumentException("latent-to-RGB factors for " + factors.length + " channels, latents have "
                    + channels);
        }
        int height = Math.toIntExact(latents.dim(2));
        int width = Math.toIntExact(latents.dim(3));
        int plane = height * width;
        float[] data = latents.data();
        int offset = index * channels * plane;
        int[] pixels = new int[plane];
        for (int p = 0; p < plane; p++) {
            int rgb = 0;
            for (int c = 0; c < 3; c++) {
                float v = bias[c];
                for (int k = 0; k < channels; k++) {
                    v += data[offset + k * plane + p] * factors[k][c];
                }
                rgb = (rgb << 8) | toByte(v);
            }
            pixels[p] = rgb;
        }
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, width, height, pixels, 0, width);
        return image;
    }

    /** [-1, 1] to 0..255, as ComfyUI's preview does. */
    static int toByte(float v) {
        float unit = Math.min(1f, Math.max(0f, (v + 1f) / 2f));
        return Math.round(unit * 255f);
    }
}
