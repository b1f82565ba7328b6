package dev.latentpipeline.preview;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Preview images: shrunk to a longest side, encoded as JPEG (a few kilobytes; previews are looked at, not kept). */
final class PreviewImages {
    static final String CONTENT_TYPE = "image/jpeg";
    private static final float QUALITY = 0.85f;

    private PreviewImages() {
    }

    /**
     * Pixels [1, 3, H, W] shrunk by the smallest whole factor that fits {@code maxSide}, each output pixel the mean
     * of its block: a decoder's full-size output becomes a preview without ever drawing the full-size image.
     */
    static FloatTensor shrink(FloatTensor pixels, int maxSide) {
        int height = Math.toIntExact(pixels.dim(2));
        int width = Math.toIntExact(pixels.dim(3));
        int factor = (Math.max(height, width) + maxSide - 1) / maxSide;
        if (factor <= 1) {
            return pixels;
        }
        int h = height / factor;
        int w = width / factor;
        float[] in = pixels.data();
        float[] out = new float[3 * h * w];
        float norm = 1f / (factor * factor);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float sum = 0;
                    for (int dy = 0; dy < factor; dy++) {
                        int row = c * height * width + (y * factor + dy) * width + x * factor;
                        for (int dx = 0; dx < factor; dx++) {
                            sum += in[row + dx];
                        }
                    }
                    out[(c * h + y) * w + x] = sum * norm;
                }
            }
        }
        return new FloatTensor(new long[] {1, 3, h, w}, out);
    }

    /** The image itself when its longest side fits {@code maxSide}, else a bilinear downscale that fits. */
    static BufferedImage fit(BufferedImage image, int maxSide) {
        int longest = Math.max(image.getWidth(), image.getHeight());
        if (longest <= maxSide) {
            return image;
        }
        double scale = (double) maxSide / longest;
        int width = Math.max(1, (int) Math.round(image.getWidth() * scale));
        int height = Math.max(1, (int) Math.round(image.getHeight() * scale));
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    static byte[] jpeg(BufferedImage image) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(QUALITY);
            writer.setOutput(out);
            writer.write(null, new IIOImage(image, null, null), param);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG encoding failed", e);
        } finally {
            writer.dispose();
        }
    }
}
