package dev.latentpipeline.model;

import dev.latentpipeline.model.builtin.BuiltinModel;
import dev.latentpipeline.model.family.ModelFamilies;
import dev.latentpipeline.model.family.ModelFamily;
import dev.latentpipeline.pipeline.PipelineConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The model this process serves: the export in sd.model.dir, or the built-in colour model written at start-up.
 * Each sub-model is opened on first use, so a process loads only the parts its roles need.
 */
@ApplicationScoped
public class ModelRepository {
    private static final Logger LOG = Logger.getLogger(ModelRepository.class);

    private final PipelineConfig config;
    private final Map<String, OnnxModel> open = new ConcurrentHashMap<>();
    private volatile ModelLayout layout;
    private volatile ModelFamily family;
    private volatile OnnxRuntime runtime;

    @Inject
    public ModelRepository(PipelineConfig config) {
        this.config = config;
    }

    public ModelLayout layout() {
        ModelLayout current = layout;
        if (current == null) {
            synchronized (this) {
                if (layout == null) {
                    layout = resolve();
                }
                current = layout;
            }
        }
        return current;
    }

    /**
     * The served model's family, read from the export's JSON files (no model is loaded): what every stage, and the
     * gateway's request parser, asks instead of assuming SD 1.x.
     */
    public ModelFamily family() {
        ModelFamily current = family;
        if (current == null) {
            synchronized (this) {
                if (family == null) {
                    family = ModelFamilies.detect(layout());
                    LOG.infof("Model family: %s", family.name());
                }
                current = family;
            }
        }
        return current;
    }

    private ModelLayout resolve() {
        if (config.model().dir().isPresent() && !config.model().dir().get().isBlank()) {
            Path dir = Path.of(config.model().dir().get());
            LOG.infof("Serving the ONNX Stable Diffusion export in %s", dir.toAbsolutePath());
            return ModelLayout.open(dir);
        }
        Path dir = Path.of(config.model().builtinDir());
        try {
            BuiltinModel.writeTo(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the built-in model to " + dir, e);
        }
        LOG.infof("Serving the built-in colour model (written to %s); set sd.model.dir for a real export",
                dir.toAbsolutePath());
        return ModelLayout.open(dir);
    }

    private OnnxRuntime runtime() {
        if (runtime == null) {
            synchronized (this) {
                if (runtime == null) {
                    runtime = new OnnxRuntime(OnnxRuntime.parseProvider(config.onnx().provider()),
                            config.onnx().cudaDevice(), config.onnx().intraOpThreads(), config.onnx().spinWait());
                }
            }
        }
        return runtime;
    }

    public OnnxModel textEncoder() {
        return model("text_encoder");
    }

    public OnnxModel unet() {
        return model("unet");
    }

    public OnnxModel vaeDecoder() {
        return model("vae_decoder");
    }

    public OnnxModel vaeEncoder() {
        return model("vae_encoder");
    }

    /** A TAESD decoder for previews, from the given file (optional: exports rarely ship one). */
    public OnnxModel taesdDecoder(Path file) {
        return open.computeIfAbsent("taesd_decoder", n -> runtime().open(n, file));
    }

    /** The sub-model in {@code folder} (text_encoder_2, ...), opened on first use; named after its folder. */
    public OnnxModel model(String folder) {
        return open.computeIfAbsent(folder, n -> runtime().open(n, layout().model(n)));
    }

    /** Names (folders) of the models opened so far (text_encoder, unet, vae_decoder, ...), for readiness. */
    public Set<String> openModels() {
        return Set.copyOf(open.keySet());
    }

    @PreDestroy
    void close() {
        open.values().forEach(OnnxModel::close);
        open.clear();
    }
}
