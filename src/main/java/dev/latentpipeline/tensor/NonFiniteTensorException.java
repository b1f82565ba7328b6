package dev.latentpipeline.tensor;

/** A tensor holds NaN or infinity: what a model that overflowed, or a corrupt message, produces. */
public class NonFiniteTensorException extends RuntimeException {
    public NonFiniteTensorException(String message) {
        super(message);
    }
}
