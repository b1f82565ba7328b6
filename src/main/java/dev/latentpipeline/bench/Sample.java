package dev.latentpipeline.bench;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One measured request: its latency, and where its time went, in microseconds. For a request through the pipeline
 * the parts come from the completed event's stage records; for the in-process baseline from the same stage code
 * called directly.
 */
record Sample(String requestId, boolean completed, long latencyUs, long onnxUs, long otherComputeUs, long encodeUs,
        long pngUs, long storageUs, long queuedUs, long completedHopUs, long restUs, int largestBatch, JsonNode stages) {

    /**
     * From a terminal event. Stage records give, per stage: queued_us (send to take: the hop and any wait),
     * duration_us (of which onnx, png and storage, and for the text encoder its tensor encoding), and the UNet's
     * latents encoding after its record closed. The terminal event's own hop is from when the VAE sent it to
     * {@code receivedAtUs} (epoch microseconds both). What is left of the latency is anything
     * between the records (building and sending the terminal event, thread hand-offs).
     */
    static Sample fromEvent(String requestId, JsonNode event, long latencyUs, long sentAtUs, long receivedAtUs) {
        boolean completed = "completed".equals(event.path("type").asText());
        long onnx = 0;
        long duration = 0;
        long encode = 0;
        long encodeOutside = 0;
        long png = 0;
        long storage = 0;
        long queued = 0;
        int batch = 0;
        for (JsonNode stage : event.path("stages")) {
            onnx += stage.path("onnx_us").asLong();
            duration += stage.path("duration_us").asLong();
            png += stage.path("png_us").asLong();
            storage += stage.path("storage_us").asLong();
            queued += stage.path("queued_us").asLong();
            long stageEncode = stage.path("encode_us").asLong();
            encode += stageEncode;
            if ("unet".equals(stage.path("stage").asText())) {
                // The UNet writes its latents after its record is closed: outside its duration.
                encodeOutside += stageEncode;
                batch = Math.max(batch, stage.path("largest_batch").asInt(1));
            }
        }
        long other = duration - onnx - png - storage - (encode - encodeOutside);
        long completedHop = Math.max(0, receivedAtUs - sentAtUs);
        long rest = latencyUs - queued - duration - encodeOutside - completedHop;
        return new Sample(requestId, completed, latencyUs, onnx, other, encode, png, storage, queued, completedHop,
                rest, batch,
                event.path("stages"));
    }
}
