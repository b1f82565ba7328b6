package dev.latentpipeline.vae;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Pixels out of the VAE: clamp(x / 2 + 0.5) to 8-bit RGB, written as PNG with text chunks (JDK ImageIO). */
public final class PngImages {
    private static final String PNG_METADATA_FORMAT = "javax_imageio_png_1.0";

    private PngImages() {
    }

    /** One image [3, H, W] (or [1, 3, H, W]) in [-1, 1] to 8-bit RGB, rounding like diffusers (half to even). */
    public static BufferedImage toRgb(FloatTensor image) {
        long[] shape = image.shape();
        int offset = shape.length == 4 ? 1 : 0;
        if (shape.length - offset != 3 || shape[offset] != 3) {
            throw new IllegalArgumentException("expected an RGB image [3, H, W], got " + image);
        }
        int height = Math.toIntExact(shape[offset + 1]);
        int width = Math.toIntExact(shape[offset + 2]);
        int plane = height * width;
        float[] data = image.data();
        BufferedImage rgb = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] pixels = new int[plane];
        for (int i = 0; i < plane; i++) {
            pixels[i] = (toByte(data[i]) << 16) | (toByte(data[plane + i]) << 8) | toByte(data[2 * plane + i]);
        }
        rgb.setRGB(0, 0, width, height, pixels, 0, width);
        return rgb;
    }

    static int toByte(float value) {
        double unit = Math.min(1.0, Math.max(0.0, value / 2.0 + 0.5));
        return (int) Math.rint(unit * 255.0);
    }

    /**
     * PNG bytes with one text chunk per entry: tEXt where the value is Latin-1 (what most readers look at),
     * iTXt (UTF-8) otherwise, so prompts in any script survive. Keywords: Latin-1, 1 to 79 characters.
     */
    public static byte[] encode(BufferedImage image, Map<String, String> text) {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        ImageWriter writer = writers.next();
        // In memory: ImageIO's default stream for a non-seekable target caches through a temporary file.
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata metadata = writer.getDefaultImageMetadata(
                    ImageTypeSpecifier.createFromRenderedImage(image), param);
            addText(metadata, text);
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, metadata), param);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("PNG encoding failed", e);
        } finally {
            writer.dispose();
        }
    }

    private static void addText(IIOMetadata metadata, Map<String, String> text) throws IIOInvalidTreeException {
        IIOMetadataNode latin1 = new IIOMetadataNode("tEXt");
        IIOMetadataNode utf8 = new IIOMetadataNode("iTXt");
        for (Map.Entry<String, String> entry : text.entrySet()) {
            if (entry.getValue().chars().allMatch(c -> c <= 0xFF)) {
                IIOMetadataNode item = new IIOMetadataNode("tEXtEntry");
                item.setAttribute("keyword", entry.getKey());
                item.setAttribute("value", entry.getValue());
                latin1.appendChild(item);
            } else {
                IIOMetadataNode item = new IIOMetadataNode("iTXtEntry");
                item.setAttribute("keyword", entry.getKey());
                item.setAttribute("compressionFlag", "FALSE");
                item.setAttribute("compressionMethod", "0");
                item.setAttribute("languageTag", "");
                item.setAttribute("translatedKeyword", "");
                item.setAttribute("text", entry.getValue());
                utf8.appendChild(item);
            }
        }
        IIOMetadataNode root = new IIOMetadataNode(PNG_METADATA_FORMAT);
        if (latin1.hasChildNodes()) {
            root.appendChild(latin1);
        }
        if (utf8.hasChildNodes()) {
            root.appendChild(utf8);
        }
        metadata.mergeTree(PNG_METADATA_FORMAT, root);
    }
}
