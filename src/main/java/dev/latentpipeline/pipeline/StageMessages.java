package dev.latentpipeline.pipeline;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.StageRecord;
import java.time.Instant;
import dev.latentpipeline.wire.TensorProto;

/** Reads and writes {@link StageMessage}s, the binary messages on sd.embeddings and sd.latents. */
public final class StageMessages {
    public static final int FORMAT_VERSION = 1;

    private StageMessages() {
    }

    public static StageMessage.Builder builder(GenerationRequest request) {
        return StageMessage.newBuilder()
                .setFormatVersion(FORMAT_VERSION)
                .setRequestId(request.id())
                .setRequestJson(RequestParser.toJson(request));
    }

    public static StageMessage parse(byte[] bytes) {
        StageMessage message;
        try {
            message = StageMessage.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new PipelineException(ErrorCode.INTERNAL_ERROR, "stage message is not a StageMessage: "
                    + e.getMessage(), e);
        }
        if (message.getFormatVersion() != FORMAT_VERSION) {
            throw new PipelineException(ErrorCode.INTERNAL_ERROR, "stage message has format version "
                    + message.getFormatVersion() + "; this worker reads version " + FORMAT_VERSION);
        }
        return message;
    }

    public static GenerationRequest request(StageMessage message) {
        return RequestParser.fromJson(message.getRequestJson());
    }

    /** A stage record as the completed event reports it; UNet records say which loop steps they ran. */
    public static GenerationEvent.StageTiming timing(StageRecord r) {
        boolean unet = r.getStage().equals(Stages.UNET);
        return new GenerationEvent.StageTiming(r.getStage(), r.getWorker(),
                Instant.ofEpochMilli(r.getStartedAtMs()).toString(), r.getDurationMs(), r.getOnnxMs(),
                unet ? r.getFromStep() : null, unet ? r.getToStep() : null);
    }

    /** The named tensor, or null when the message does not carry it. */
    public static FloatTensor tensor(StageMessage message, String name) {
        for (TensorProto tensor : message.getTensorsList()) {
            if (tensor.getName().equals(name)) {
                return TensorWireCodec.decode(tensor);
            }
        }
        return null;
    }
}
