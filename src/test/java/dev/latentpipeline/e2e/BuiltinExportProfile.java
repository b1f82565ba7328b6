package dev.latentpipeline.e2e;

import dev.latentpipeline.model.builtin.BuiltinModel;
import dev.latentpipeline.model.builtin.BuiltinModel.Variant;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A test profile that serves a built-in variant the way a user's export is served: written to
 * {@code target/exports/<name>} in the export layout and read through sd.model.dir, nothing else set.
 */
public abstract class BuiltinExportProfile implements QuarkusTestProfile {
    private final Path dir;
    private final Variant variant;

    protected BuiltinExportProfile(String name, Variant variant) {
        this.dir = Path.of("target", "exports", name).toAbsolutePath();
        this.variant = variant;
    }

    /** Changes the written export before the application reads it; nothing by default. */
    protected void adjust(Path dir) throws IOException {
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        try {
            BuiltinModel.writeTo(dir, variant);
            adjust(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("sd.model.dir", dir.toString());
    }
}
