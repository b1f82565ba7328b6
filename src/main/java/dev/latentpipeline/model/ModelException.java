package dev.latentpipeline.model;

/** A model that cannot be loaded or run: missing files, unexpected inputs, inference errors. */
public class ModelException extends RuntimeException {
    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
