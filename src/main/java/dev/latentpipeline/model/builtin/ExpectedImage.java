package dev.latentpipeline.model.builtin;

import dev.latentpipeline.model.builtin.BuiltinColors.Rgb;
import dev.latentpipeline.model.builtin.BuiltinModel.Family;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;

/**
 * The flat image the built-in model gives a request, from the documented closed form (README, "The built-in model")
 * and diffusers' request semantics, for samplers that end at sigma 0 (Euler-type and LCM; PNDM and DDIM with SD's
 * set_alpha_to_one false leave a little noise, see the README). The starting latent does not matter, so txt2img and
 * img2img give the same image. Tests of the pipeline compare their PNGs with {@link #pixel}.
 */
public final class ExpectedImage {
    private ExpectedImage() {
    }

    /** diffusers' (height, width) pairs: original_size and target_size. */
    public record Size(int height, int width) {
    }

    /** diffusers' crops_coords_top_left (top, left). */
    public record Crop(int top, int left) {
    }

    /**
     * The request fields that decide the image, named and defaulted as diffusers' pipelines do; null means absent.
     * SD pipelines read only prompt, negative prompt and guidance; SDXL reads all. Build with {@link #of} and the
     * {@code with} methods.
     */
    public record Request(String prompt, String prompt2, String negativePrompt, String negativePrompt2,
            double guidanceScale, int width, int height, Size originalSize, Crop cropsCoordsTopLeft, Size targetSize,
            Size negativeOriginalSize, Crop negativeCropsCoordsTopLeft, Size negativeTargetSize) {

        public static Request of(String prompt, double guidanceScale, int width, int height) {
            return new Request(prompt, null, null, null, guidanceScale, width, height, null, null, null, null, null,
                    null);
        }

        public Request withPrompt2(String p) {
            return new Request(prompt, p, negativePrompt, negativePrompt2, guidanceScale, width, height, originalSize,
                    cropsCoordsTopLeft, targetSize, negativeOriginalSize, negativeCropsCoordsTopLeft,
                    negativeTargetSize);
        }

        public Request withNegativePrompt(String p) {
            return new Request(prompt, prompt2, p, negativePrompt2, guidanceScale, width, height, originalSize,
                    cropsCoordsTopLeft, targetSize, negativeOriginalSize, negativeCropsCoordsTopLeft,
                    negativeTargetSize);
        }

        public Request withNegativePrompt2(String p) {
            return new Request(prompt, prompt2, negativePrompt, p, guidanceScale, width, height, originalSize,
                    cropsCoordsTopLeft, targetSize, negativeOriginalSize, negativeCropsCoordsTopLeft,
                    negativeTargetSize);
        }

        /** original_size, crops_coords_top_left and target_size; null keeps diffusers' default for that one. */
        public Request withTimeIds(Size original, Crop crop, Size target) {
            return new Request(prompt, prompt2, negativePrompt, negativePrompt2, guidanceScale, width, height,
                    original, crop, target, negativeOriginalSize, negativeCropsCoordsTopLeft, negativeTargetSize);
        }

        /** negative_original_size, negative_crops_coords_top_left, negative_target_size. */
        public Request withNegativeTimeIds(Size original, Crop crop, Size target) {
            return new Request(prompt, prompt2, negativePrompt, negativePrompt2, guidanceScale, width, height,
                    originalSize, cropsCoordsTopLeft, targetSize, original, crop, target);
        }
    }

    /** The image's colour in [0, 1] (every pixel's). */
    public static Rgb pixel(Variant variant, Request request) {
        double[] c = unclamped(variant, request);
        return new Rgb(clamp(c[0]), clamp(c[1]), clamp(c[2]));
    }

    /**
     * The guided colour before clamping, per channel: classifier-free guidance with scale g > 1 gives
     * c_u + g (c_c - c_u); a guidance-embedding UNet runs once and guides itself; otherwise the image is c_c.
     */
    public static double[] unclamped(Variant variant, Request request) {
        boolean sdxl = variant.family() == Family.SDXL;
        double g = request.guidanceScale();
        double[] text = sdxl ? sdxlText(request.prompt(), orPrompt(request.prompt2(), request.prompt()))
                : rgb(BuiltinColors.promptColor(request.prompt()));
        if (variant.guidanceEmbedding()) {
            // The UNet reads g back from timestep_cond; it treats what it cannot read as g = 0.
            double scale = GuidanceEmbeddingGraph.decodable(g) ? g : 0;
            double pivot = GuidanceEmbeddingGraph.PIVOT;
            text = mix(new double[] {pivot, pivot, pivot}, scale, text);
            return sdxl ? withTimeIds(text, positiveTimeIds(request), request) : text;
        }
        double[] conditional = sdxl ? withTimeIds(text, positiveTimeIds(request), request) : text;
        if (g <= 1) {
            return conditional;
        }
        return mix(unconditional(sdxl, request), g, conditional);
    }

    private static double[] unconditional(boolean sdxl, Request request) {
        if (!sdxl) {
            return rgb(BuiltinColors.promptColor(request.negativePrompt() == null ? "" : request.negativePrompt()));
        }
        // force_zeros_for_empty_prompt: no negative_prompt at all means zero embeddings, whatever negative_prompt_2 is.
        double[] text = request.negativePrompt() == null ? rgb(BuiltinSdxl.ZERO_CONDITIONING)
                : sdxlText(request.negativePrompt(), orPrompt(request.negativePrompt2(), request.negativePrompt()));
        return withTimeIds(text, negativeTimeIds(request), request);
    }

    /** WEIGHT_1 c(prompt) + (WEIGHT_2 + POOLED_WEIGHT) c(prompt_2): every marker present. */
    private static double[] sdxlText(String prompt, String prompt2) {
        double[] c1 = rgb(BuiltinColors.promptColor(prompt));
        double[] c2 = rgb(BuiltinColors.promptColor(prompt2));
        double w2 = BuiltinSdxl.WEIGHT_2 + BuiltinSdxl.POOLED_WEIGHT;
        return new double[] {
            BuiltinSdxl.WEIGHT_1 * c1[0] + w2 * c2[0],
            BuiltinSdxl.WEIGHT_1 * c1[1] + w2 * c2[1],
            BuiltinSdxl.WEIGHT_1 * c1[2] + w2 * c2[2],
        };
    }

    /** diffusers' time ids: (original h, w, crop top, left, target h, w), defaults (H, W), (0, 0), (H, W). */
    private static double[] positiveTimeIds(Request r) {
        return timeIds(r, r.originalSize(), r.cropsCoordsTopLeft(), r.targetSize());
    }

    /** The negative ones only when negative original and target sizes are both given; else the positive ones. */
    private static double[] negativeTimeIds(Request r) {
        if (r.negativeOriginalSize() == null || r.negativeTargetSize() == null) {
            return positiveTimeIds(r);
        }
        return timeIds(r, r.negativeOriginalSize(), r.negativeCropsCoordsTopLeft(), r.negativeTargetSize());
    }

    private static double[] timeIds(Request r, Size original, Crop crop, Size target) {
        Size image = new Size(r.height(), r.width());
        Size o = original == null ? image : original;
        Crop c = crop == null ? new Crop(0, 0) : crop;
        Size t = target == null ? image : target;
        return new double[] {o.height(), o.width(), c.top(), c.left(), t.height(), t.width()};
    }

    /** b c + d: brightness b = (th / H)(tw / W), tint d = gain (oh / H - 1, ow / W - 1, ct / H + cl / W). */
    private static double[] withTimeIds(double[] c, double[] ids, Request r) {
        double h = r.height();
        double w = r.width();
        double brightness = ids[4] / h * (ids[5] / w);
        double gain = BuiltinSdxl.TIME_ID_GAIN;
        double[] tint = {gain * (ids[0] / h - 1), gain * (ids[1] / w - 1), gain * (ids[2] / h + ids[3] / w)};
        return new double[] {
            brightness * c[0] + tint[0],
            brightness * c[1] + tint[1],
            brightness * c[2] + tint[2],
        };
    }

    /** prompt_2 and negative_prompt_2 fall back to the first prompt when absent or empty (Python's "or"). */
    private static String orPrompt(String second, String first) {
        return second == null || second.isEmpty() ? first : second;
    }

    /** base + scale (c - base), per channel. */
    private static double[] mix(double[] base, double scale, double[] c) {
        return new double[] {
            base[0] + scale * (c[0] - base[0]),
            base[1] + scale * (c[1] - base[1]),
            base[2] + scale * (c[2] - base[2]),
        };
    }

    private static double[] rgb(Rgb c) {
        return new double[] {c.r(), c.g(), c.b()};
    }

    private static float clamp(double v) {
        return (float) Math.min(1, Math.max(0, v));
    }
}
