package dev.latentpipeline.text;

import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.observability.StageObserved;
import dev.latentpipeline.pipeline.CancellationRegistry;
import dev.latentpipeline.pipeline.EventPublisher;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.HandoffCommitStrategy;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.RequestLimits;
import dev.latentpipeline.pipeline.RequestParser;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.StageFailures;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.StageOutput;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.StageRecord;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stage 1: sd.requests to sd.embeddings. Validates the request, announces it (accepted), runs the CLIP text
 * encoder on the prompt and, when guidance needs it, the negative prompt.
 */
@ApplicationScoped
public class TextEncodingStage {
    private static final Logger LOG = Logger.getLogger(TextEncodingStage.class);

    @Inject
    PipelineConfig config;
    @Inject
    @Identifier(HandoffCommitStrategy.NAME)
    HandoffCommitStrategy commits;
    @Inject
    ModelRepository models;
    @Inject
    EventPublisher events;
    @Inject
    StageOutput output;
    @Inject
    WorkerIdentity worker;
    @Inject
    CancellationRegistry cancellations;
    @Inject
    StageFailures failures;

    private volatile RequestParser parser;
    private volatile TextEncoder encoder;

    /** Before the messaging connectors start (priority 1000), so no message meets an unloaded model. */
    void start(@Observes @Priority(500) StartupEvent event) {
        parser = new RequestParser(RequestLimits.from(config.limits()));
        if (Role.parse(config.roles()).contains(Role.TEXT_ENCODER)) {
            encoder();
        }
    }

    private TextEncoder encoder() {
        if (encoder == null) {
            synchronized (this) {
                if (encoder == null) {
                    ClipTokenizer tokenizer = ClipTokenizer.load(models.layout().tokenizerDir());
                    encoder = new TextEncoder(models.textEncoder(), tokenizer);
                }
            }
        }
        return encoder;
    }

    @StageObserved(Stages.TEXT_ENCODER)
    @Incoming("requests")
    @Blocking
    public void onRequest(ConsumerRecord<String, byte[]> record) {
        commits.handle("requests", record, () -> encodeRequest(record));
    }

    private void encodeRequest(ConsumerRecord<String, byte[]> record) {
        RequestParser.Outcome outcome = parser.parse(record.key(), record.value());
        if (outcome instanceof RequestParser.Rejected rejected) {
            if (rejected.requestId() == null) {
                LOG.warnf("Skipped a request without a readable id (partition %d, offset %d): %s",
                        record.partition(), record.offset(), rejected.error().getMessage());
            } else {
                LOG.infof("Rejected request %s: %s", rejected.requestId(), rejected.error().getMessage());
                failures.fail(Stages.TEXT_ENCODER, rejected.requestId(), rejected.error());
            }
            return;
        }
        GenerationRequest request = ((RequestParser.Accepted) outcome).request();
        if (cancellations.isCancelled(request.id())) {
            failures.cancelled(Stages.TEXT_ENCODER, request.id(), null, null);
            return;
        }
        try {
            events.publish(GenerationEvent.accepted(request, worker.id()));
            events.publish(GenerationEvent.stageStarted(request.id(), GenerationEvent.ENCODING, worker.id(),
                    Stages.TEXT_ENCODER));
            output.send(StageOutput.EMBEDDINGS, request.id(), encode(request).toByteArray());
        } catch (RuntimeException e) {
            failures.handle(Stages.TEXT_ENCODER, request.id(), "text encoding", e);
        }
    }

    StageMessage encode(GenerationRequest request) {
        long started = System.currentTimeMillis();
        long onnxBefore = models.textEncoder().nanosInside();
        StageMessage.Builder message = StageMessages.builder(request).setAcceptedAtMs(started);
        TextEncoder.EncodedPrompt prompt = encoder().encode(request.prompt());
        message.addTensors(TensorWireCodec.encode("prompt_embeds", prompt.embeddings()));
        if (prompt.truncated()) {
            message.addWarnings("prompt was truncated to the text encoder's limit: " + prompt.droppedTokens()
                    + " tokens were dropped: \"" + prompt.droppedText() + "\"");
        }
        if (request.guided()) {
            TextEncoder.EncodedPrompt negative = encoder().encode(request.negativePrompt());
            message.addTensors(TensorWireCodec.encode("negative_prompt_embeds", negative.embeddings()));
            if (negative.truncated()) {
                message.addWarnings("negative prompt was truncated to the text encoder's limit: "
                        + negative.droppedTokens() + " tokens were dropped");
            }
        }
        long onnxMs = (models.textEncoder().nanosInside() - onnxBefore) / 1_000_000;
        return message.addStages(StageRecord.newBuilder().setStage(Stages.TEXT_ENCODER).setWorker(worker.id())
                .setStartedAtMs(started).setDurationMs(System.currentTimeMillis() - started).setOnnxMs(onnxMs))
                .build();
    }
}
