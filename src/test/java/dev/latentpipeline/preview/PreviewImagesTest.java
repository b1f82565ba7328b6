package dev.latentpipeline.preview;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PreviewImagesTest {

    @Test
    void shrinkingAveragesEachBlockByTheSmallestFactorThatFits() {
        // 3 channels of 4x2; to a longest side of 2: factor 2, blocks of 2x2.
        float[] data = new float[3 * 2 * 4];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        FloatTensor shrunk = PreviewImages.shrink(new FloatTensor(new long[] {1, 3, 2, 4}, data), 2);
        assertArrayEquals(new long[] {1, 3, 1, 2}, shrunk.shape());
        // Channel 0 rows (0 1 2 3) and (4 5 6 7): blocks average (0+1+4+5)/4 and (2+3+6+7)/4.
        assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f, 18.5f, 20.5f}, shrunk.data());
        FloatTensor small = FloatTensor.zeros(1, 3, 8, 8);
        assertSame(small, PreviewImages.shrink(small, 256), "already small enough");
    }

    @Test
    void previewsAreJpegsThatFit() throws Exception {
        BufferedImage wide = new BufferedImage(1024, 512, BufferedImage.TYPE_INT_RGB);
        BufferedImage fitted = PreviewImages.fit(wide, 256);
        assertEquals(256, fitted.getWidth());
        assertEquals(128, fitted.getHeight());
        byte[] jpeg = PreviewImages.jpeg(fitted);
        assertTrue(jpeg.length > 0 && (jpeg[0] & 0xFF) == 0xFF && (jpeg[1] & 0xFF) == 0xD8, "JPEG magic");
        assertEquals(256, ImageIO.read(new ByteArrayInputStream(jpeg)).getWidth());
    }
}
