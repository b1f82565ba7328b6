package dev.latentpipeline.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Node;

class PngImagesTest {

    @Test
    void mapsMinusOneToOneOntoBytesWithClampingAndHalfEvenRounding() {
        assertEquals(0, PngImages.toByte(-1f));
        assertEquals(0, PngImages.toByte(-3f));
        assertEquals(255, PngImages.toByte(1f));
        assertEquals(255, PngImages.toByte(9f));
        // 0 -> 0.5 * 255 = 127.5 rounds to even: 128.
        assertEquals(128, PngImages.toByte(0f));
    }

    @Test
    void writesChannelsInRgbOrderAndKeepsTextChunks() throws Exception {
        // 1x2 image: pixel 0 red, pixel 1 blue.
        FloatTensor image = new FloatTensor(new long[] {1, 3, 1, 2}, new float[] {1, -1, -1, -1, -1, 1});
        Map<String, String> text = Map.of("parameters", "a red square\nSteps: 20", "prompt-utf8", "猫 à la mode");
        byte[] png = PngImages.encode(PngImages.toRgb(image), text);

        BufferedImage read = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(0xFF0000, read.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(0x0000FF, read.getRGB(1, 0) & 0xFFFFFF);
        assertEquals(text, readText(png));
    }

    private static Map<String, String> readText(byte[] png) throws Exception {
        Map<String, String> text = new HashMap<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            ImageReader reader = ImageIO.getImageReaders(in).next();
            reader.setInput(in);
            IIOMetadataNode root = (IIOMetadataNode) reader.getImageMetadata(0).getAsTree("javax_imageio_png_1.0");
            for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                for (Node e = n.getFirstChild(); e != null; e = e.getNextSibling()) {
                    IIOMetadataNode entry = (IIOMetadataNode) e;
                    if (entry.getNodeName().equals("tEXtEntry")) {
                        text.put(entry.getAttribute("keyword"), entry.getAttribute("value"));
                    } else if (entry.getNodeName().equals("iTXtEntry")) {
                        text.put(entry.getAttribute("keyword"), entry.getAttribute("text"));
                    }
                }
            }
        }
        return text;
    }
}
