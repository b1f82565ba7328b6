package dev.latentpipeline.model.builtin;

import ai.onnxruntime.OrtException;
import dev.latentpipeline.model.builtin.BuiltinColors.Rgb;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import dev.latentpipeline.model.builtin.ExpectedImage.Crop;
import dev.latentpipeline.model.builtin.ExpectedImage.Request;
import dev.latentpipeline.model.builtin.ExpectedImage.Size;
import dev.latentpipeline.model.builtin.SdxlRig.Conditioning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static dev.latentpipeline.model.builtin.BuiltinSdxlInferenceTest.assertColor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link ExpectedImage} against colours worked out by hand from the README, and against the ONNX files. */
class BuiltinExpectedImageTest {
    private static final Variant SD = Variant.STANDARD;
    private static final Variant XL = Variant.SDXL;
    private static final Variant XL_LCM = Variant.SDXL.withGuidanceEmbedding();

    @Test
    void promptColourCountsClipPiecesThatAreColourWords() {
        assertRgb(0.5, 0, 0.5, BuiltinColors.promptColor("Red, BLUE"));
        assertRgb(0.5, 0, 0.5, BuiltinColors.promptColor("red-blue"));
        assertRgb(1, 0, 0, BuiltinColors.promptColor("  the  red's   shade "));
        assertRgb(0.5, 0.5, 0.5, BuiltinColors.promptColor("reddish bluer"));
        assertRgb(0.5, 0.5, 0.5, BuiltinColors.promptColor("'red"));  // the piece "'re" comes first
        assertRgb(0.5, 0.5, 0.5, BuiltinColors.promptColor(""));
        assertRgb(2 / 3.0, 0, 1 / 3.0, BuiltinColors.promptColor("red red blue"));
        assertRgb(1, 0, 0, BuiltinColors.promptColor("red ".repeat(75)));
        assertThrows(IllegalArgumentException.class, () -> BuiltinColors.promptColor("red ".repeat(76)));
        assertThrows(IllegalArgumentException.class, () -> BuiltinColors.promptColor("a cat ".repeat(20) + "red"));
    }

    @Test
    void sdImagesAreTheGuidedPromptColour() {
        assertPixel(1, 0, 0, SD, Request.of("a red apple", 7.5, 512, 512));
        assertPixel(1, 1, 1, SD, Request.of("pink", 7.5, 512, 512));          // .5 + 7.5 (.5, .25, .25)
        assertPixel(1, 0.75, 0.75, SD, Request.of("pink", 1, 512, 512));    // no guidance at g <= 1
        assertPixel(1, 1, 0, SD, Request.of("orange", 2, 512, 512).withNegativePrompt("blue"));  // (2, 1, -1)
        // A guidance-embedding UNet guides itself against grey and ignores the negative prompt.
        assertUnclamped(new double[] {0.5, -0.25, 0.5}, SD.withGuidanceEmbedding(),
                Request.of("purple", 1.5, 512, 512).withNegativePrompt("blue"));
    }

    @Test
    void sdxlMixesBothPromptsAndFallsBackToThePromptForAnEmptyPrompt2() {
        assertPixel(0.75, 0.25, 0.25, XL, Request.of("orange", 1, 1024, 1024).withPrompt2("purple"));
        assertPixel(1, 0.5, 0, XL, Request.of("orange", 1, 1024, 1024).withPrompt2(""));
        assertPixel(1, 0.5, 0, XL, Request.of("orange", 1, 1024, 1024));
    }

    @Test
    void sdxlAbsentNegativePromptMeansZeroConditioningAndEmptyMeansEncoded() {
        // zero conditioning is (.25, .25, .25): .25 + 3 (.5 - .25) = 1; "" is grey: .5 + 3 (.5 - .5) = .5.
        assertUnclamped(new double[] {1, 1, 1}, XL, Request.of("grey", 3, 1024, 1024));
        assertUnclamped(new double[] {1, 1, 1}, XL, Request.of("grey", 3, 1024, 1024).withNegativePrompt2("blue"));
        assertUnclamped(new double[] {0.5, 0.5, 0.5}, XL, Request.of("grey", 3, 1024, 1024).withNegativePrompt(""));
        // negative "blue" / "red": (.5 blue + .5 red) = (.5, 0, .5); grey at g = 2 -> (.5, 1, .5).
        assertUnclamped(new double[] {0.5, 1, 0.5}, XL,
                Request.of("grey", 2, 1024, 1024).withNegativePrompt("blue").withNegativePrompt2("red"));
    }

    @Test
    void sdxlTimeIdsScaleAndTint() {
        // original 512 of 1024: tint .5 (-.5, -.5, .); crop (256, 0): blue + .5 (.25) = .125.
        assertUnclamped(new double[] {0.25, 0.25, 0.625}, XL, Request.of("grey", 1, 1024, 1024)
                .withTimeIds(new Size(512, 512), new Crop(256, 0), null));
        assertPixel(0.75, 0.25, 0, XL, Request.of("orange", 1, 1024, 1024)
                .withTimeIds(new Size(512, 512), null, null));  // the README's example
        // target (512, 1024): brightness .5.
        assertUnclamped(new double[] {0.25, 0.25, 0.25}, XL, Request.of("grey", 1, 1024, 1024)
                .withTimeIds(null, null, new Size(512, 1024)));
        // Sizes are (height, width): 768 high, 1024 wide, defaults give no tint.
        assertUnclamped(new double[] {0.5, 0.5, 0.5}, XL, Request.of("grey", 1, 1024, 768));
        // Negative time ids apply when negative original and target sizes are both given.
        Request negative = Request.of("grey", 2, 1024, 1024).withNegativePrompt("");
        assertUnclamped(new double[] {0.75, 0.75, 0.5}, XL,
                negative.withNegativeTimeIds(new Size(512, 512), null, new Size(1024, 1024)));
        assertUnclamped(new double[] {0.5, 0.5, 0.5}, XL, negative.withNegativeTimeIds(new Size(512, 512), null, null));
    }

    @Test
    void sdxlGuidanceEmbeddingGuidesOncePerImage() {
        // text (.75, .375, .625) at g = 2 against grey: (1, .25, .75); no classifier-free pass, negative ignored.
        Request r = Request.of("pink", 2, 1024, 1024).withPrompt2("purple").withNegativePrompt("blue");
        assertUnclamped(new double[] {1, 0.25, 0.75}, XL_LCM, r);
        // Time ids act after the guidance: original 512 tints red and green by -.25.
        assertUnclamped(new double[] {0.75, 0, 0.75}, XL_LCM, r.withTimeIds(new Size(512, 512), null, null));
        // Past |g - 1| ~ 15.7 the UNet cannot read g back and the image is grey.
        assertUnclamped(new double[] {0.5, 0.5, 0.5}, XL_LCM, Request.of("pink", 20, 1024, 1024));
    }

    @Test
    void agreesWithTheOnnxFilesRunTheWayDiffusersRunsThem(@TempDir Path dir) throws IOException, OrtException {
        BuiltinModel.writeTo(dir.resolve("xl"), XL);
        BuiltinModel.writeTo(dir.resolve("lcm"), XL_LCM);
        try (SdxlRig xl = new SdxlRig(dir.resolve("xl")); SdxlRig lcm = new SdxlRig(dir.resolve("lcm"))) {
            // No negative prompt: zero negative conditioning; both branches get the request's time ids.
            Request absent = Request.of("orange", 2.5, 96, 64).withPrompt2("purple")
                    .withTimeIds(new Size(48, 96), new Crop(8, 0), null);
            float[] ids = {48, 96, 8, 0, 64, 96};
            assertColor(ExpectedImage.unclamped(XL, absent), xl.targetColors(List.of(Conditioning.zeros(),
                    xl.diffusers("orange", "purple")), List.of(ids, ids), 64, 96, null, 2.5)[0], 1e-4, "absent");

            // Negative prompts "blue" / "" (negative_prompt_2 falls back to "blue"), negative time ids.
            Request negative = Request.of("grey", 3, 96, 64).withNegativePrompt("blue").withNegativePrompt2("")
                    .withNegativeTimeIds(new Size(32, 48), new Crop(0, 24), new Size(64, 96));
            float[] negativeIds = {32, 48, 0, 24, 64, 96};
            assertColor(ExpectedImage.unclamped(XL, negative), xl.targetColors(List.of(xl.diffusers("blue", "blue"),
                    xl.diffusers("grey", "grey")), List.of(negativeIds, SdxlRig.defaultTimeIds(64, 96)), 64, 96,
                    null, 3)[0], 1e-4, "negative prompts");

            Request guided = Request.of("pink", 4.5, 96, 64).withPrompt2("cyan");
            assertColor(ExpectedImage.unclamped(XL_LCM, guided), lcm.targetColors(
                    List.of(lcm.diffusers("pink", "cyan")), List.of(SdxlRig.defaultTimeIds(64, 96)), 64, 96,
                    SdxlClosedForm.guidanceEmbedding(3.5, 256), 0)[0], 1e-3, "guidance embedding");
        }
    }

    private static void assertPixel(double r, double g, double b, Variant variant, Request request) {
        assertRgb(r, g, b, ExpectedImage.pixel(variant, request));
    }

    private static void assertUnclamped(double[] want, Variant variant, Request request) {
        assertColor(want, ExpectedImage.unclamped(variant, request), 1e-6, request.toString());
    }

    private static void assertRgb(double r, double g, double b, Rgb got) {
        assertEquals(r, got.r(), 1e-6, "red of " + got);
        assertEquals(g, got.g(), 1e-6, "green of " + got);
        assertEquals(b, got.b(), 1e-6, "blue of " + got);
    }
}
