package dev.latentpipeline;

import dev.latentpipeline.bench.Benchmark;
import io.quarkus.bootstrap.runner.RunnerClassLoader;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;
import java.util.Arrays;

/**
 * Entry point. With no arguments the process serves its roles until stopped; {@code bench [options]} starts the
 * same system, pushes requests through it and prints latency and time-share figures.
 */
@QuarkusMain
public class LatentPipelineMain implements QuarkusApplication {

    @Inject
    Benchmark benchmark;

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("bench")) {
            // The benchmark may name the export to serve; it must be known before the application starts.
            String modelDir = Benchmark.modelDirOption(args);
            if (modelDir != null) {
                System.setProperty("sd.model.dir", modelDir);
            }
        }
        Quarkus.run(LatentPipelineMain.class, args);
    }

    @Override
    public int run(String... args) throws Exception {
        if (args.length > 0 && args[0].equals("bench")) {
            return benchmark.run(Arrays.copyOfRange(args, 1, args.length));
        }
        releaseStartupJars();
        Quarkus.waitForExit();
        return 0;
    }

    /**
     * Closes the jars the packaged app's class loader opened while starting (all ~290 of them, each holding its
     * central directory on the heap: ~10 MB) and from then on keeps at most four open. Quarkus does this itself
     * after start-up, but only for applications without a {@code @QuarkusMain}; this is that same call. Elsewhere
     * (tests, dev mode) the class loader is another one and nothing happens. docs/memory.md.
     */
    private static void releaseStartupJars() {
        if (Thread.currentThread().getContextClassLoader() instanceof RunnerClassLoader loader) {
            loader.resetInternalCaches();
        }
    }
}
