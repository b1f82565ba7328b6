package dev.latentpipeline.api.preview;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.latentpipeline.wire.Preview;
import java.util.Base64;

/** A preview as the gateway shows it: over SSE (event "preview"), with the image inline as a data URL. */
public record PreviewView(
        @JsonProperty("id") String id,
        @JsonProperty("image_index") int imageIndex,
        @JsonProperty("step") int step,
        @JsonProperty("total_steps") int totalSteps,
        @JsonProperty("width") int width,
        @JsonProperty("height") int height,
        @JsonProperty("decoder") String decoder,
        @JsonProperty("url") String url,
        @JsonProperty("data_url") String dataUrl) {

    public static PreviewView of(Preview p) {
        return new PreviewView(p.getRequestId(), p.getImageIndex(), p.getStep(), p.getTotalSteps(), p.getWidth(),
                p.getHeight(), p.getDecoder(), "/v1/generations/" + p.getRequestId() + "/preview?image="
                        + p.getImageIndex(),
                "data:" + p.getContentType() + ";base64," + Base64.getEncoder().encodeToString(p.getImage().toByteArray()));
    }
}
