package dev.latentpipeline.preview;

import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.vae.PngImages;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Turns a running job's predicted clean latents x0 into small preview images: with a TAESD decoder when there is one
 * (sd.previews.taesd, or the export's taesd_decoder/model.onnx), else with the latent-to-RGB approximation of the
 * model's latent space.
 */
@ApplicationScoped
public class PreviewRenderer {
    private static final Logger LOG = Logger.getLogger(PreviewRenderer.class);
    public static final String TAESD = "taesd";
    public static final String LATENT_TO_RGB = "latent2rgb";

    @Inject
    PipelineConfig config;
    @Inject
    ModelRepository models;

    private TaesdDecoder taesd;
    private LatentToRgb latentToRgb;

    /** One image's preview, encoded. */
    public record Rendered(int index, int width, int height, String contentType, byte[] bytes, String decoder) {
    }

    @PostConstruct
    void open() {
        Path root = models.layout().root();
        Path file = config.previews().taesd().filter(s -> !s.isBlank()).map(Path::of)
                .orElse(root.resolve("taesd_decoder").resolve("model.onnx"));
        if (Files.isRegularFile(file)) {
            taesd = new TaesdDecoder(models.taesdDecoder(file), file.getParent());
            LOG.infof("Previews: TAESD decoder %s", file);
        } else {
            // The family decides the latent space: SDXL's has its own factors.
            latentToRgb = models.family().latentSpace().equals("sdxl") ? LatentToRgb.SDXL : LatentToRgb.SD;
            LOG.infof("Previews: latent-to-RGB approximation for %s latents", latentToRgb.name());
        }
    }

    /** Which decoder previews use. */
    public String decoder() {
        return taesd != null ? TAESD : LATENT_TO_RGB;
    }

    /** A preview of each image of x0 [n, 4, h, w]. */
    public List<Rendered> render(FloatTensor predictedOriginal) {
        List<Rendered> out = new ArrayList<>();
        int images = Math.toIntExact(predictedOriginal.dim(0));
        for (int k = 0; k < images; k++) {
            BufferedImage image = taesd != null
                    ? PngImages.toRgb(PreviewImages.shrink(taesd.decode(predictedOriginal, k), config.previews().maxSize()))
                    : latentToRgb.render(predictedOriginal, k);
            BufferedImage fitted = PreviewImages.fit(image, config.previews().maxSize());
            out.add(new Rendered(k, fitted.getWidth(), fitted.getHeight(), PreviewImages.CONTENT_TYPE,
                    PreviewImages.jpeg(fitted), decoder()));
        }
        return out;
    }
}
