package dev.latentpipeline.pipeline;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.StageRecord;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
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

    /**
     * A stage's record: when it started (epoch ms), how long it took and how long of that inside ONNX Runtime, in
     * milliseconds and microseconds. Callers add what else applies (queue wait, encoding, PNG, storage, steps).
     */
    public static StageRecord.Builder record(String stage, String worker, long startedAtMs, long durationNanos,
            long onnxNanos) {
        return StageRecord.newBuilder().setStage(stage).setWorker(worker).setStartedAtMs(startedAtMs)
                .setDurationMs(durationNanos / 1_000_000).setDurationUs(durationNanos / 1_000)
                .setOnnxMs(onnxNanos / 1_000_000).setOnnxUs(onnxNanos / 1_000);
    }

    /** A stage record as the completed event reports it; UNet records say which loop steps they ran. */
    public static GenerationEvent.StageTiming timing(StageRecord r) {
        boolean unet = r.getStage().equals(Stages.UNET);
        return new GenerationEvent.StageTiming(r.getStage(), r.getWorker(),
                Instant.ofEpochMilli(r.getStartedAtMs()).toString(), r.getDurationMs(), r.getOnnxMs(),
                unet ? r.getFromStep() : null, unet ? r.getToStep() : null, r.getDurationUs(), r.getOnnxUs(),
                r.getQueuedUs(), r.getEncodeUs(), r.getPngUs(), r.getStorageUs(),
                unet ? r.getLargestBatch() : null);
    }

    /** Every tensor of the message, by name, in message order. */
    public static Map<String, FloatTensor> tensors(StageMessage message) {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        for (TensorProto tensor : message.getTensorsList()) {
            tensors.put(tensor.getName(), TensorWireCodec.decode(tensor));
        }
        return tensors;
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
