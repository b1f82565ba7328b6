package dev.latentpipeline.pipeline;

import java.util.Set;

/**
 * What the served model adds to the request contract: the size a request without width/height gets, and which of
 * the model-specific fields ({@link GenerationRequest#modelSpecificFields}) it reads. The model family answers;
 * every process that parses requests (the gateway, the text encoder) asks the same one.
 */
public interface RequestRules {
    /** The model's name for messages, e.g. "SDXL". */
    String modelName();

    int defaultWidth();

    int defaultHeight();

    /** Model-specific fields this model reads; a request setting any other one is refused. */
    Set<String> honouredFields();
}
