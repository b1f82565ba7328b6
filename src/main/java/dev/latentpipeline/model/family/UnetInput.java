package dev.latentpipeline.model.family;

/**
 * A UNet input fed from the conditioning on sd.embeddings: the wire tensor for the conditional rows and the one for
 * the unconditional rows (classifier-free guidance), each [1, ...], repeated per image.
 */
public record UnetInput(String name, String conditional, String unconditional) {
}
