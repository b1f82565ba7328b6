package dev.latentpipeline.api.upload;

import dev.latentpipeline.api.problem.ApiException;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.MalformedTensorException;
import dev.latentpipeline.tensor.Npy;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * What an upload is, told from its bytes (not from Content-Type, which browsers guess from the file name): a PNG or
 * JPEG init image whose header reads and whose size is within the request schema's 4096 x 4096, or a float32 .npy
 * of initial latents the UNet stage would read. Anything else is refused here, before it is stored, with the reason.
 */
record UploadedFile(Kind kind, String contentType, String extension, Integer width, Integer height, long[] shape) {
    /** The request field an upload is meant for. */
    enum Kind {
        INIT_IMAGE("init_image"), LATENTS("latents");

        final String field;

        Kind(String field) {
            this.field = field;
        }
    }

    static final long MAX_PIXELS = 4096L * 4096L;
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final byte[] JPEG = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    private static final byte[] NPY = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    static UploadedFile of(byte[] bytes) {
        if (bytes.length == 0) {
            throw invalid(400, "invalid_upload", "is empty: send the file's bytes as the body");
        }
        if (startsWith(bytes, PNG)) {
            return image(bytes, "image/png", ".png");
        }
        if (startsWith(bytes, JPEG)) {
            return image(bytes, "image/jpeg", ".jpg");
        }
        if (startsWith(bytes, NPY)) {
            try {
                FloatTensor latents = Npy.read(bytes);
                return new UploadedFile(Kind.LATENTS, "application/octet-stream", ".npy", null, null,
                        latents.shape());
            } catch (MalformedTensorException e) {
                throw invalid(400, "invalid_upload", e.getMessage());
            }
        }
        throw invalid(415, "unsupported_media_type", "must be a PNG or JPEG image (init_image) or a float32 .npy "
                + "file (latents)");
    }

    /** Reads the header only: the size, and that an image reader takes it; the pixels are decoded by the UNet stage. */
    private static UploadedFile image(byte[] bytes, String contentType, String extension) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw invalid(400, "invalid_upload", "cannot be read as an image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if ((long) width * height > MAX_PIXELS) {
                    throw invalid(400, "invalid_upload", "is " + width + "x" + height
                            + "; init images of at most 4096x4096 pixels are accepted");
                }
                return new UploadedFile(Kind.INIT_IMAGE, contentType, extension, width, height, null);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiException api) {
                throw api;
            }
            throw invalid(400, "invalid_upload", "is not a readable " + extension.substring(1).toUpperCase(
                    java.util.Locale.ROOT) + " image: " + e.getMessage());
        }
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }

    static ApiException invalid(int status, String code, String message) {
        return ApiException.field(status, code, "(body)", message);
    }
}
