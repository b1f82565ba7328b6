package dev.latentpipeline.denoise.img2img;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class InitImagesTest {
    private static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    @Test
    void pixelsAreChannelFirstInMinusOneToOne() throws IOException {
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 0xFF0080);
        image.setRGB(1, 0, 0x00FF00);
        InitImages.Prepared p = InitImages.prepare(png(image), 2, 1);
        assertNull(p.resizeNote());
        assertArrayEquals(new long[] {1, 3, 1, 2}, p.pixels().shape());
        float mid = 2f * (128 / 255f) - 1f;
        assertArrayEquals(new float[] {1, -1, -1, 1, mid, -1}, p.pixels().data());
    }

    @Test
    void greyIsReadFromItsSamplesAndAlphaIsDropped() throws IOException {
        BufferedImage grey = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 64);
        float want = 2f * (64 / 255f) - 1f;
        assertArrayEquals(new float[] {want, want, want}, InitImages.prepare(png(grey), 1, 1).pixels().data());

        BufferedImage transparent = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        transparent.setRGB(0, 0, 0x00FF0000); // fully transparent red: PIL's convert("RGB") keeps the red
        assertArrayEquals(new float[] {1, -1, -1}, InitImages.prepare(png(transparent), 1, 1).pixels().data());
    }

    @Test
    void otherSizesAreResizedAndSaidSo() throws IOException {
        BufferedImage image = new BufferedImage(4, 2, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < 4; x++) {
            image.setRGB(x, 0, 0x336699);
            image.setRGB(x, 1, 0x336699);
        }
        InitImages.Prepared p = InitImages.prepare(png(image), 8, 8);
        assertEquals("init_image is 4x2; it was resized to 8x8 (bicubic)", p.resizeNote());
        FloatTensor pixels = p.pixels();
        assertArrayEquals(new long[] {1, 3, 8, 8}, pixels.shape());
        assertEquals(2f * (0x33 / 255f) - 1f, pixels.data()[0], 1e-6);
    }

    @Test
    void otherBytesAreRefusedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InitImages.prepare("GIF89a".getBytes(), 8, 8));
        assertTrue(e.getMessage().contains("neither a PNG nor a JPEG"), e.getMessage());
        byte[] truncatedPng = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0};
        assertThrows(IllegalArgumentException.class, () -> InitImages.prepare(truncatedPng, 8, 8));
    }
}
