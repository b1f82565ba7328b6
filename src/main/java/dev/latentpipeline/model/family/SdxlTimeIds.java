package dev.latentpipeline.model.family;

import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.GenerationRequest.Crop;
import dev.latentpipeline.pipeline.GenerationRequest.Size;

/**
 * SDXL's micro-conditioning, diffusers' {@code _get_add_time_ids}: (original height, width, crop top, left, target
 * height, width), defaults the image size, (0, 0) and the image size. The image size is the request's: for img2img
 * the init image is resized to it before encoding, so it is also the init image's size, which diffusers' img2img
 * pipeline takes.
 */
public final class SdxlTimeIds {
    static final Crop NO_CROP = new Crop(0, 0);

    private SdxlTimeIds() {
    }

    /** The conditional side's time ids. */
    public static float[] conditional(GenerationRequest r) {
        return ids(orImage(r.originalSize(), r), orNoCrop(r.cropsCoordsTopLeft()), orImage(r.targetSize(), r));
    }

    /**
     * The unconditional side's. StableDiffusionXLPipeline: the conditional ids unless negative_original_size and
     * negative_target_size are both given, then those with negative_crops_coords_top_left (default (0, 0)).
     * StableDiffusionXLImg2ImgPipeline: negative sizes default to the conditional ones, and the crop is always
     * crops_coords_top_left (its {@code _get_add_time_ids} never reads the negative crop).
     */
    public static float[] unconditional(GenerationRequest r) {
        if (r.imageToImage()) {
            Size original = r.negativeOriginalSize() != null ? r.negativeOriginalSize() : orImage(r.originalSize(), r);
            Size target = r.negativeTargetSize() != null ? r.negativeTargetSize() : orImage(r.targetSize(), r);
            return ids(original, orNoCrop(r.cropsCoordsTopLeft()), target);
        }
        if (r.negativeOriginalSize() != null && r.negativeTargetSize() != null) {
            return ids(r.negativeOriginalSize(), orNoCrop(r.negativeCropsCoordsTopLeft()), r.negativeTargetSize());
        }
        return conditional(r);
    }

    private static Size orImage(Size size, GenerationRequest r) {
        return size != null ? size : r.imageSize();
    }

    private static Crop orNoCrop(Crop crop) {
        return crop != null ? crop : NO_CROP;
    }

    private static float[] ids(Size original, Crop crop, Size target) {
        return new float[] {original.height(), original.width(), crop.top(), crop.left(), target.height(),
            target.width()};
    }
}
