package dev.latentpipeline.text;

import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.model.family.ModelFamily;
import dev.latentpipeline.model.family.TextEncoderSpec;
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
import java.util.Map;

/**
 * Stage 1, request to conditioning, payload in and payload out: the model family's text encoders (CLIP tokenizer
 * plus encoder each) on the prompts and, when the UNet runs the unconditional pass, the negative prompts, plus the
 * conditioning the family makes from the request itself (SDXL's time ids). The bean (and its models) is created on
 * first use, so only processes that run this role load them.
 */
@ApplicationScoped
public class TextEncodingStage {
    @Inject
    ModelRepository models;
    @Inject
    WorkerIdentity worker;

    private List<TextEncoder> encoders;
    private PromptConditioning conditioning;

    @PostConstruct
    void open() {
        ModelFamily family = models.family();
        encoders = new ArrayList<>();
        for (TextEncoderSpec spec : family.textEncoders()) {
            ClipTokenizer tokenizer = ClipTokenizer.load(models.layout().folder(spec.tokenizerFolder()));
            if (spec.specialTokens() == TextEncoderSpec.SpecialTokens.HUGGING_FACE) {
                tokenizer = tokenizer.withSpecialTokensSplit();
            }
            encoders.add(new TextEncoder(models.model(spec.folder()), tokenizer, spec));
        }
        conditioning = new PromptConditioning(family, encoders);
    }

    /** Loads the models and runs each once, so the first request does not pay for ONNX Runtime's first run. */
    public void warmUp() {
        encoders.forEach(encoder -> encoder.encode(""));
    }

    /** A request's conditioning tensors by wire name (diffusers' names), notes for the user, time inside ONNX. */
    public record Embeddings(Map<String, FloatTensor> tensors, List<String> warnings, long onnxNanos) {
    }

    public Embeddings embeddings(GenerationRequest request) {
        long onnxBefore = onnxNanos();
        PromptConditioning.Encoded encoded = conditioning.encode(request);
        return new Embeddings(encoded.tensors(), encoded.warnings(), onnxNanos() - onnxBefore);
    }

    private long onnxNanos() {
        long total = 0;
        for (TextEncoder encoder : encoders) {
            OnnxModel model = encoder.model();
            total += model.nanosInside();
        }
        return total;
    }

    /**
     * The sd.embeddings message for a request: its conditioning and this stage's record.
     *
     * @param queuedUs how long the request waited before this worker took it, in microseconds
     */
    public StageMessage encode(GenerationRequest request, long queuedUs) {
        long started = System.currentTimeMillis();
        long startNanos = System.nanoTime();
        Embeddings embeddings = embeddings(request);
        long encodeStart = System.nanoTime();
        StageMessage.Builder message = StageMessages.builder(request).setAcceptedAtMs(started)
                .addAllWarnings(embeddings.warnings());
        embeddings.tensors().forEach((name, tensor) -> message.addTensors(TensorWireCodec.encode(name, tensor)));
        long encodeUs = (System.nanoTime() - encodeStart) / 1_000;
        return message.addStages(StageMessages.record(Stages.TEXT_ENCODER, worker.id(), started,
                System.nanoTime() - startNanos, embeddings.onnxNanos()).setQueuedUs(queuedUs).setEncodeUs(encodeUs))
                .build();
    }
}
