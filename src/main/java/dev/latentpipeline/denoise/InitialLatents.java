package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.storage.StorageException;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.MalformedTensorException;
import dev.latentpipeline.tensor.Npy;
import dev.latentpipeline.tensor.Tensors;
import dev.latentpipeline.denoise.img2img.InitImages;
import dev.latentpipeline.denoise.img2img.LatentDistribution;
import dev.latentpipeline.denoise.img2img.VaeEncoder;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Prepares a request's starting latents in the UNet stage: seeded noise, or the request's explicit {@code latents}
 * (.npy in the images bucket), and for img2img the {@code init_image} encoded by the VAE encoder and noised to the
 * start step. Each image k draws, from its own generator RandomState(seed + k) and in this order: the encoder's
 * sample (latent_parameters exports only), the initial or added noise (unless latents are given), then any noise the
 * sampler adds (euler_a). Bad objects fail the request with invalid_request naming the field.
 */
final class InitialLatents {
    /** Init images: PNG/JPEG up to this size are fetched (a 4096x4096 PNG is rarely more than 50 MB). */
    static final int MAX_IMAGE_BYTES = 64 * 1024 * 1024;
    /** Room for a .npy header beyond the data. */
    private static final int NPY_HEADER_ALLOWANCE = 64 * 1024;

    private final ImageStore store;
    private final Supplier<VaeEncoder> encoder;

    /** @param encoder opens the VAE encoder on first use, so text-to-image workers never load it */
    InitialLatents(ImageStore store, Supplier<VaeEncoder> encoder) {
        this.store = store;
        this.encoder = encoder;
    }

    /** The start of the loop, notes for the completed event, and the time spent reading object storage. */
    record Prepared(StartLatents start, List<String> warnings, long storageNanos) {
    }

    /** @param given the request's explicit latents when the caller has them already (null: read them if named) */
    Prepared prepare(GenerationRequest request, Scheduler scheduler, PerImageNoise noise, long[] shape,
            FloatTensor given) {
        long storageStart = System.nanoTime();
        FloatTensor explicit = given != null ? given
                : request.latents() != null ? explicitLatents(request.latents(), shape) : null;
        if (!request.imageToImage()) {
            return new Prepared(start(request, scheduler, noise, shape, explicit, null), List.of(),
                    System.nanoTime() - storageStart);
        }
        InitImages.Prepared image;
        long storageNanos;
        try {
            byte[] bytes = fetch("init_image", request.initImage(), MAX_IMAGE_BYTES);
            storageNanos = System.nanoTime() - storageStart;
            image = InitImages.prepare(bytes, request.width(), request.height());
        } catch (IllegalArgumentException e) {
            throw invalid("init_image", e.getMessage(), e);
        }
        LatentDistribution encoded = encoder.get().encode(image.pixels());
        List<String> warnings = image.resizeNote() == null ? List.of() : List.of(image.resizeNote());
        return new Prepared(start(request, scheduler, noise, shape, explicit, encoded), warnings, storageNanos);
    }

    /**
     * The start from what was fetched: {@code explicit} unit noise or null (draw from the seeds), {@code encoded} the
     * init image's encoding or null (text-to-image).
     */
    static StartLatents start(GenerationRequest request, Scheduler scheduler, PerImageNoise noise, long[] shape,
            FloatTensor explicit, LatentDistribution encoded) {
        if (encoded == null) {
            return StartLatents.fromNoise(explicit != null ? explicit : noise.initialLatents(shape), scheduler);
        }
        int images = (int) shape[0];
        FloatTensor clean;
        if (encoded.needsNoise()) {
            float[] draws = noise.initialLatents(shape).data();
            int perImage = draws.length / images;
            float[] data = new float[draws.length];
            for (int k = 0; k < images; k++) {
                float[] unit = Arrays.copyOfRange(draws, k * perImage, (k + 1) * perImage);
                System.arraycopy(encoded.scaledSample(unit).data(), 0, data, k * perImage, perImage);
            }
            clean = new FloatTensor(shape, data);
        } else {
            clean = Tensors.repeat(encoded.scaledSample(null), images);
        }
        if (!Arrays.equals(clean.shape(), shape)) {
            throw new PipelineException(ErrorCode.MODEL_ERROR, "the VAE encoder made latents of shape "
                    + Npy.describe(clean.shape()) + " from the init image; the UNet needs " + Npy.describe(shape));
        }
        FloatTensor unit = explicit != null ? explicit : noise.initialLatents(shape);
        return StartLatents.fromImage(clean, unit, scheduler, request.steps(), request.strength());
    }

    private FloatTensor explicitLatents(String key, long[] shape) {
        long dataBytes = FloatTensor.elementCount(shape) * Float.BYTES;
        FloatTensor latents;
        try {
            latents = Npy.read(fetch("latents", key, Math.toIntExact(dataBytes + NPY_HEADER_ALLOWANCE)));
        } catch (MalformedTensorException e) {
            throw invalid("latents", "'" + key + "' is not usable: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw invalid("latents", e.getMessage(), e);
        }
        if (!Arrays.equals(latents.shape(), shape)) {
            throw invalid("latents", "'" + key + "' has shape " + Npy.describe(latents.shape())
                    + "; this request needs " + Npy.describe(shape) + " = [num_images, 4, height/8, width/8]", null);
        }
        for (float v : latents.data()) {
            if (!Float.isFinite(v)) {
                throw invalid("latents", "'" + key + "' holds NaN or infinite values", null);
            }
        }
        return latents;
    }

    private byte[] fetch(String field, String key, int maxBytes) {
        try {
            return store.get(key, maxBytes);
        } catch (StorageException e) {
            if (ImageStore.isNotFound(e)) {
                throw invalid(field, "no object '" + key + "' in bucket '" + store.bucket() + "'", e);
            }
            throw e;
        }
    }

    static PipelineException invalid(String field, String message, Throwable cause) {
        return new PipelineException(ErrorCode.INVALID_REQUEST, field + ": " + message,
                List.of(new PipelineException.FieldError(field, message)), cause);
    }
}
