package dev.latentpipeline.model.family;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.GenerationRequest.Crop;
import dev.latentpipeline.pipeline.GenerationRequest.Size;
import org.junit.jupiter.api.Test;

/** diffusers' _get_add_time_ids and its negative side, text-to-image and img2img, on hand-worked numbers. */
class SdxlTimeIdsTest {
    private static GenerationRequest request(Size original, Crop crop, Size target, Size negativeOriginal,
            Crop negativeCrop, Size negativeTarget, String initImage) {
        // 768 wide, 512 high: time ids are (height, width), so a swap shows.
        return new GenerationRequest("r", "p", null, 768, 512, 4, 5, "euler", 1, 1, null, null, initImage,
                initImage == null ? null : 0.5, null, null, original, crop, target, negativeOriginal, negativeCrop,
                negativeTarget);
    }

    @Test
    void defaultsAreTheImageSizeNoCropAndTheImageSize() {
        GenerationRequest r = request(null, null, null, null, null, null, null);
        assertArrayEquals(new float[] {512, 768, 0, 0, 512, 768}, SdxlTimeIds.conditional(r));
        assertArrayEquals(new float[] {512, 768, 0, 0, 512, 768}, SdxlTimeIds.unconditional(r));
    }

    @Test
    void explicitIdsInDiffusersOrder() {
        GenerationRequest r = request(new Size(1024, 2048), new Crop(16, 32), new Size(256, 128), null, null, null,
                null);
        assertArrayEquals(new float[] {1024, 2048, 16, 32, 256, 128}, SdxlTimeIds.conditional(r));
        // Negative side: the conditional ids unless both negative sizes are given.
        assertArrayEquals(SdxlTimeIds.conditional(r), SdxlTimeIds.unconditional(r));
        GenerationRequest onlyOne = request(new Size(1024, 2048), new Crop(16, 32), new Size(256, 128),
                new Size(8, 8), new Crop(1, 1), null, null);
        assertArrayEquals(SdxlTimeIds.conditional(onlyOne), SdxlTimeIds.unconditional(onlyOne));
    }

    @Test
    void textToImageNegativeIdsTakeTheirOwnCropDefaultingToZero() {
        GenerationRequest both = request(null, new Crop(16, 32), null, new Size(64, 96), null, new Size(128, 160),
                null);
        assertArrayEquals(new float[] {64, 96, 0, 0, 128, 160}, SdxlTimeIds.unconditional(both));
        GenerationRequest crop = request(null, new Crop(16, 32), null, new Size(64, 96), new Crop(3, 5),
                new Size(128, 160), null);
        assertArrayEquals(new float[] {64, 96, 3, 5, 128, 160}, SdxlTimeIds.unconditional(crop));
    }

    @Test
    void img2imgNegativeIdsDefaultEachSizeAndKeepThePositiveCrop() {
        GenerationRequest r = request(new Size(1024, 2048), new Crop(16, 32), null, new Size(64, 96),
                new Crop(3, 5), null, "init.png");
        assertArrayEquals(new float[] {1024, 2048, 16, 32, 512, 768}, SdxlTimeIds.conditional(r));
        // StableDiffusionXLImg2ImgPipeline: negative_original_size + crops_coords_top_left + negative_target_size,
        // the negative target defaulting to the target (the image size here).
        assertArrayEquals(new float[] {64, 96, 16, 32, 512, 768}, SdxlTimeIds.unconditional(r));
        GenerationRequest none = request(null, null, null, null, null, null, "init.png");
        assertArrayEquals(new float[] {512, 768, 0, 0, 512, 768}, SdxlTimeIds.unconditional(none));
    }
}
