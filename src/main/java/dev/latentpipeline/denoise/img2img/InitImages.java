package dev.latentpipeline.denoise.img2img;

import dev.latentpipeline.tensor.FloatTensor;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * img2img's init image: PNG or JPEG bytes to the VAE encoder's input, pixels [1, 3, H, W] in [-1, 1] computed as
 * diffusers' VaeImageProcessor does (x / 255 * 2 - 1, alpha dropped like PIL's convert("RGB")). An image of
 * another size is resized to the requested one with bicubic interpolation (Java2D; diffusers' own processor uses
 * PIL's Lanczos, so send the image at the requested size to reproduce diffusers exactly).
 */
public final class InitImages {
    /** The schema's largest image, 4096 x 4096: larger inputs are refused before their pixels are decoded. */
    static final long MAX_PIXELS = 4096L * 4096L;

    private InitImages() {
    }

    /** The encoder input, and a note for the completed event when the image had to be resized. */
    public record Prepared(FloatTensor pixels, String resizeNote) {
    }

    /** @throws IllegalArgumentException with a message for the user when the bytes are not a usable PNG or JPEG */
    public static Prepared prepare(byte[] bytes, int width, int height) {
        BufferedImage image = rgb(decode(bytes));
        String note = null;
        if (image.getWidth() != width || image.getHeight() != height) {
            note = "init_image is " + image.getWidth() + "x" + image.getHeight() + "; it was resized to " + width
                    + "x" + height + " (bicubic)";
            image = resize(image, width, height);
        }
        return new Prepared(toTensor(image), note);
    }

    static BufferedImage decode(byte[] bytes) {
        if (!isPng(bytes) && !isJpeg(bytes)) {
            throw new IllegalArgumentException("init_image is neither a PNG nor a JPEG");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IllegalArgumentException("init_image cannot be read as an image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new IllegalArgumentException("init_image is " + reader.getWidth(0) + "x"
                            + reader.getHeight(0) + "; at most 4096x4096 pixels are accepted");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("init_image cannot be decoded: " + e.getMessage(), e);
        }
    }

    private static boolean isPng(byte[] b) {
        return b.length >= 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
    }

    private static boolean isJpeg(byte[] b) {
        return b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF;
    }

    /** Opaque 8-bit RGB. Grey images are read from their samples: Java2D treats 8-bit grey as linear light. */
    private static BufferedImage rgb(BufferedImage source) {
        int w = source.getWidth();
        int h = source.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        boolean grey = source.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        Raster raster = source.getRaster();
        int maxGrey = (1 << source.getColorModel().getComponentSize(0)) - 1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb;
                if (grey) {
                    int v = (int) Math.round(raster.getSample(x, y, 0) * 255.0 / maxGrey);
                    rgb = v << 16 | v << 8 | v;
                } else {
                    rgb = source.getRGB(x, y) & 0xFF_FFFF;
                }
                out.setRGB(x, y, rgb);
            }
        }
        return out;
    }

    private static BufferedImage resize(BufferedImage source, int width, int height) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(source, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** [1, 3, H, W], channel-first, 2 * (v / 255) - 1 in float32 as diffusers computes it. */
    static FloatTensor toTensor(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int plane = w * h;
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        float[] data = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            data[i] = signed((argb[i] >> 16) & 0xFF);
            data[plane + i] = signed((argb[i] >> 8) & 0xFF);
            data[2 * plane + i] = signed(argb[i] & 0xFF);
        }
        return new FloatTensor(new long[] {1, 3, h, w}, data);
    }

    private static float signed(int value) {
        return 2f * (value / 255f) - 1f;
    }
}
