package dev.latentpipeline.tensor;

/** A tensor on the wire whose header and data disagree, or whose dtype is unknown. */
public class MalformedTensorException extends IllegalArgumentException {
    public MalformedTensorException(String message) {
        super(message);
    }
}
