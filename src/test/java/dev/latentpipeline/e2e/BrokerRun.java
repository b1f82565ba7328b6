package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.model.builtin.BuiltinColors.Rgb;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.testing.RealInfrastructure;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.UUID;
import javax.imageio.ImageIO;

/**
 * A user's side of the pipeline for the model-family end-to-end tests: requests onto sd.requests, terminal events
 * from sd.events, inputs uploaded to and PNGs read from the bucket, and each PNG compared pixel by pixel with the
 * built-in model's closed form ({@code ExpectedImage}).
 */
final class BrokerRun implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    final PipelineClient client = new PipelineClient();
    final ImageStore store = RealInfrastructure.imageStore("sd-images");

    JsonNode completed(String json) {
        JsonNode done = terminal(json);
        assertEquals("completed", done.get("type").asText(), done::toString);
        return done;
    }

    JsonNode failed(String json) {
        JsonNode done = terminal(json);
        assertEquals("failed", done.get("type").asText(), done::toString);
        assertFalse(done.get("error").get("message").asText().contains("Exception"), done::toString);
        return done.get("error");
    }

    private JsonNode terminal(String json) {
        String id = "f-" + UUID.randomUUID();
        client.submit(id, json);
        return client.awaitTerminal(id, TIMEOUT);
    }

    BufferedImage image(JsonNode done, int index) {
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(
                    store.get(done.get("images").get(index).get("key").asText())));
            assertTrue(image != null, "not a readable image");
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String upload(byte[] bytes) {
        String key = "inputs/" + UUID.randomUUID();
        store.put(key, bytes, null, null);
        return key;
    }

    /** A flat PNG of one colour. */
    static byte[] flatPng(int width, int height, int rgb) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The largest difference, in 8-bit levels, between any pixel's channel and the expected colour. */
    static int maxLevels(BufferedImage image, Rgb expected) {
        int[] want = {level(expected.r()), level(expected.g()), level(expected.b())};
        int max = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                int[] got = {(rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF};
                for (int c = 0; c < 3; c++) {
                    max = Math.max(max, Math.abs(got[c] - want[c]));
                }
            }
        }
        return max;
    }

    /** Every pixel within {@code levels} of the expected colour. */
    static void assertPixels(Rgb expected, BufferedImage image, int levels, String what) {
        int off = maxLevels(image, expected);
        assertTrue(off <= levels, () -> what + ": a pixel is " + off + " levels from " + expected + " (allowed "
                + levels + ")");
    }

    /**
     * PNDM and DDIM with set_alpha_to_one false stop at alphaBar_0 < 1 and leave ~0.03 of the initial noise in the
     * latent (README, "The expected image"): the mean is within 0.015 and no pixel is more than 0.12 away.
     */
    static void assertNoisyPixels(Rgb expected, BufferedImage image, String what) {
        double[] sum = new double[3];
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                sum[0] += (rgb >> 16) & 0xFF;
                sum[1] += (rgb >> 8) & 0xFF;
                sum[2] += rgb & 0xFF;
            }
        }
        double n = 255.0 * image.getWidth() * image.getHeight();
        double[] want = {expected.r(), expected.g(), expected.b()};
        for (int c = 0; c < 3; c++) {
            double mean = sum[c] / n;
            int channel = c;
            assertTrue(Math.abs(mean - want[c]) <= 0.015, () -> what + ": channel " + channel + " mean " + mean
                    + ", expected " + want[channel]);
        }
        assertTrue(maxLevels(image, expected) <= 0.12 * 255, what);
    }

    private static int level(float v) {
        return Math.round(v * 255);
    }

    @Override
    public void close() {
        client.close();
    }
}
