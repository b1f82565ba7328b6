package dev.latentpipeline.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * The tiny real-architecture SD 1.x export in ../shared/tiny-sd-export (random weights: coloured noise that depends on
 * everything), made usable: copied to a writable folder with the real CLIP tokenizer files put into its tokenizer/,
 * as its README says. A user's fresh clone has no ../shared: tests then skip with {@link #MISSING}.
 */
public final class TinyExport {
    public static final Path SHARED = Path.of("..", "shared");
    public static final String MISSING = "../shared/tiny-sd-export or ../shared/clip-tokenizer is absent (a fresh "
            + "clone has no ../shared): skipped";

    private TinyExport() {
    }

    /** The export copied into {@code dir}, or null when ../shared does not have it. */
    public static Path copyTo(Path dir) {
        Path source = SHARED.resolve("tiny-sd-export");
        Path tokenizer = SHARED.resolve("clip-tokenizer");
        if (!Files.isDirectory(source) || !Files.isRegularFile(tokenizer.resolve("vocab.json"))) {
            return null;
        }
        Path target = dir.resolve("tiny-sd-export");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path to = target.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            for (String name : new String[] {"vocab.json", "merges.txt"}) {
                Files.copy(tokenizer.resolve(name), target.resolve("tokenizer").resolve(name),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }
}
