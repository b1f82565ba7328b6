package dev.latentpipeline.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.jboss.logging.Logger;

/**
 * Opens ONNX sessions on the configured execution provider. With provider "auto" it tries CUDA and falls back to
 * the CPU when the CUDA libraries cannot be loaded (the CPU jar has no CUDA; the GPU jar lists CUDA even on a
 * machine without it, so trying is the only reliable test). One log line per session says which one runs it.
 */
public final class OnnxRuntime {
    private static final Logger LOG = Logger.getLogger(OnnxRuntime.class);

    public enum Provider { AUTO, CUDA, CPU }

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final Provider provider;
    private final int cudaDevice;
    private final int intraOpThreads;

    public OnnxRuntime(Provider provider, int cudaDevice, int intraOpThreads) {
        this.provider = provider;
        this.cudaDevice = cudaDevice;
        this.intraOpThreads = intraOpThreads;
    }

    public static Provider parseProvider(String value) {
        try {
            return Provider.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sd.onnx.provider must be auto, cuda or cpu, not '" + value + "'");
        }
    }

    public OnnxModel open(String name, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelException(name + ": no model file at " + file.toAbsolutePath());
        }
        try {
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            String used = "CPU";
            if (provider != Provider.CPU) {
                try {
                    options.addCUDA(cudaDevice);
                    used = "CUDA device " + cudaDevice;
                } catch (OrtException | UnsatisfiedLinkError e) {
                    if (provider == Provider.CUDA) {
                        throw new ModelException(name + ": sd.onnx.provider=cuda but CUDA is not available: "
                                + e.getMessage(), e);
                    }
                    LOG.debugf("CUDA not available for %s: %s", name, e.getMessage());
                }
            }
            // Loading by path lets ONNX Runtime find external weight files next to model.onnx.
            OrtSession session = env.createSession(file.toString(), options);
            LOG.infof("Loaded %s from %s on %s execution provider", name, file, used);
            return new OnnxModel(name, env, session);
        } catch (OrtException e) {
            throw new ModelException(name + ": cannot load " + file + ": " + e.getMessage(), e);
        }
    }
}
