package dev.latentpipeline.preview;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class LatentToRgbTest {

    @Test
    void eachPixelIsTheFactorsTimesItsChannelsOnTheMinusOneToOneScale() {
        // One latent pixel (1, 0, 0, 0) and one (0, 0, 0, 1): SD's factors give row 0 and row 3 of the table.
        FloatTensor latents = new FloatTensor(new long[] {1, 4, 1, 2}, new float[] {1, 0, 0, 0, 0, 0, 0, 1});
        BufferedImage image = LatentToRgb.SD.render(latents, 0);
        assertEquals(2, image.getWidth());
        assertEquals(1, image.getHeight());
        // (0.3512, 0.2297, 0.3227) -> ((v + 1) / 2) * 255 = (172, 157, 169)
        assertEquals(rgb(172, 157, 169), image.getRGB(0, 0) & 0xFFFFFF);
        // (-0.2120, -0.2616, -0.7177) -> (100, 94, 36)
        assertEquals(rgb(100, 94, 36), image.getRGB(1, 0) & 0xFFFFFF);
    }

    @Test
    void sdxlAddsItsBiasAndImagesAreSlicedByIndex() {
        // Image 1 of two is all zeros: the bias alone, (0.1084, -0.0175, -0.0011) -> (141, 125, 127).
        FloatTensor latents = new FloatTensor(new long[] {2, 4, 1, 1}, new float[] {9, 9, 9, 9, 0, 0, 0, 0});
        assertEquals(rgb(141, 125, 127), LatentToRgb.SDXL.render(latents, 1).getRGB(0, 0) & 0xFFFFFF);
        // Image 0, all 9: 9 * (column sums) + bias = (-0.7655, 2.5106, 2.5720): R inside the range, G and B clamped.
        assertEquals(rgb(30, 255, 255), LatentToRgb.SDXL.render(latents, 0).getRGB(0, 0) & 0xFFFFFF);
    }

    @Test
    void otherLatentSpacesAreRefused() {
        FloatTensor sixteen = FloatTensor.zeros(1, 16, 2, 2);
        assertThrows(IllegalArgumentException.class, () -> LatentToRgb.SD.render(sixteen, 0));
    }

    private static int rgb(int r, int g, int b) {
        return (r << 16) | (g << 8) | b;
    }
}
