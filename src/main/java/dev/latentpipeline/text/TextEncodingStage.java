package dev.latentpipeline.text;

import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.wire.StageMessage;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;

/**
 * Stage 1, request to embeddings, payload in and payload out: the CLIP tokenizer and text encoder on the prompt
 * and, when guidance needs it, the negative prompt. The bean (and its model) is created on first use, so only
 * processes that run this role load it.
 */
@ApplicationScoped
public class TextEncodingStage {
    @Inject
    ModelRepository models;
    @Inject
    WorkerIdentity worker;

    private TextEncoder encoder;

    @PostConstruct
    void open() {
        encoder = new TextEncoder(models.textEncoder(), ClipTokenizer.load(models.layout().tokenizerDir()));
    }

    /** Loads the model and runs it once, so the first request does not pay for ONNX Runtime's first run. */
    public void warmUp() {
        encoder.encode("");
    }

    /** A request's text conditioning: prompt embeddings, and the negative prompt's when guided (else null). */
    public record Embeddings(FloatTensor prompt, FloatTensor negativePrompt, List<String> warnings, long onnxNanos) {
    }

    public Embeddings embeddings(GenerationRequest request) {
        long onnxBefore = models.textEncoder().nanosInside();
        List<String> warnings = new ArrayList<>();
        TextEncoder.EncodedPrompt prompt = encoder.encode(request.prompt());
        if (prompt.truncated()) {
            warnings.add("prompt was truncated to the text encoder's limit: " + prompt.droppedTokens()
                    + " tokens were dropped: \"" + prompt.droppedText() + "\"");
        }
        FloatTensor negative = null;
        if (request.guided()) {
            TextEncoder.EncodedPrompt encoded = encoder.encode(request.negativePrompt());
            negative = encoded.embeddings();
            if (encoded.truncated()) {
                warnings.add("negative prompt was truncated to the text encoder's limit: " + encoded.droppedTokens()
                        + " tokens were dropped");
            }
        }
        return new Embeddings(prompt.embeddings(), negative, warnings,
                models.textEncoder().nanosInside() - onnxBefore);
    }

    /**
     * The sd.embeddings message for a request: its embeddings and this stage's record.
     *
     * @param queuedUs how long the request waited before this worker took it, in microseconds
     */
    public StageMessage encode(GenerationRequest request, long queuedUs) {
        long started = System.currentTimeMillis();
        long startNanos = System.nanoTime();
        Embeddings embeddings = embeddings(request);
        long encodeStart = System.nanoTime();
        StageMessage.Builder message = StageMessages.builder(request).setAcceptedAtMs(started)
                .addTensors(TensorWireCodec.encode("prompt_embeds", embeddings.prompt()))
                .addAllWarnings(embeddings.warnings());
        if (embeddings.negativePrompt() != null) {
            message.addTensors(TensorWireCodec.encode("negative_prompt_embeds", embeddings.negativePrompt()));
        }
        long encodeUs = (System.nanoTime() - encodeStart) / 1_000;
        return message.addStages(StageMessages.record(Stages.TEXT_ENCODER, worker.id(), started,
                System.nanoTime() - startNanos, embeddings.onnxNanos()).setQueuedUs(queuedUs).setEncodeUs(encodeUs))
                .build();
    }
}
