package dev.latentpipeline.bench;

import dev.latentpipeline.storage.ImageStore;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;

/**
 * Object storage's floor, measured in the same run and through the same client the stages use: the median time of
 * one PUT (as the VAE stores a PNG) and one GET (as the UNet reads explicit latents) of an object of a given size.
 * Each round writes a new key under a new prefix, as each request's images do: some stores (a filesystem-backed one
 * such as the embedded server) pay for the new folder.
 */
final class StorageProbe {
    static final String PREFIX = "bench/storage-probe/";

    private StorageProbe() {
    }

    /** Median PUT and GET times in microseconds, over {@code rounds} of each after a few unmeasured ones. */
    static long[] measure(ImageStore store, int bytes, int rounds) {
        byte[] payload = new byte[bytes];
        store.ensureBucket();
        long[] puts = new long[rounds];
        long[] gets = new long[rounds];
        for (int r = -3; r < rounds; r++) {
            String key = PREFIX + UUID.randomUUID() + "/0.bin";
            long start = System.nanoTime();
            store.put(key, payload, "application/octet-stream", Map.of());
            long put = System.nanoTime();
            byte[] back = store.get(key);
            long got = System.nanoTime();
            if (back.length != bytes) {
                throw new IllegalStateException("storage probe: wrote " + bytes + " bytes, read " + back.length);
            }
            if (r >= 0) {
                puts[r] = (put - start) / 1_000;
                gets[r] = (got - put) / 1_000;
            }
        }
        Arrays.sort(puts);
        Arrays.sort(gets);
        return new long[] {puts[rounds / 2], gets[rounds / 2]};
    }
}
