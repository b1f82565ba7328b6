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
    private final boolean spinWait;

    public OnnxRuntime(Provider provider, int cudaDevice, int intraOpThreads) {
        this(provider, cudaDevice, intraOpThreads, false);
    }

    /**
     * @param intraOpThreads threads per session; 0 lets ONNX Runtime decide (one per physical core)
     * @param spinWait whether idle intra-op threads spin waiting for work (sd.onnx.spin-wait)
     */
    public OnnxRuntime(Provider provider, int cudaDevice, int intraOpThreads, boolean spinWait) {
        this.provider = provider;
        this.cudaDevice = cudaDevice;
        this.intraOpThreads = intraOpThreads;
        this.spinWait = spinWait;
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
            // Spinning workers keep a core busy after every run; the other stages, the broker and the storage
            // client of the process need it more (on 2 cores: baseline 61 -> 42 ms a request, docs/benchmark.md).
            options.addConfigEntry("session.intra_op.allow_spinning", spinWait ? "1" : "0");
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
