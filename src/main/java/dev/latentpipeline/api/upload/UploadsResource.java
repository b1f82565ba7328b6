package dev.latentpipeline.api.upload;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.latentpipeline.api.ApiConfig;
import dev.latentpipeline.api.problem.ApiException;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.storage.StorageException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.jboss.logging.Logger;

/**
 * Uploads for requests that name objects of the images bucket: an init image for img2img or initial latents, stored
 * under a fresh {@code inputs/<uuid>} key the answer gives; the request then names it ({@code init_image},
 * {@code latents}). The body is the file itself, at most sd.api.max-upload-bytes.
 */
@Path("/v1/uploads")
@Produces(MediaType.APPLICATION_JSON)
public class UploadsResource {
    private static final Logger LOG = Logger.getLogger(UploadsResource.class);
    static final String PREFIX = "inputs/";

    @Inject
    ImageStore store;
    @Inject
    ApiConfig api;

    /** The answer: where the upload is and what it is. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Uploaded(
            @Schema(description = "The object key: give it as the request's init_image or latents")
            @JsonProperty("key") String key,
            @Schema(description = "The request field this upload is for: init_image or latents")
            @JsonProperty("field") String field,
            @JsonProperty("content_type") String contentType,
            @JsonProperty("bytes") int bytes,
            @JsonProperty("width") Integer width,
            @JsonProperty("height") Integer height,
            @JsonProperty("shape") List<Long> shape) {
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Upload an init image (PNG or JPEG, at most 4096x4096) or initial latents (float32 .npy) "
            + "as the raw body; 201 with the object key to name in a request's init_image or latents")
    @RequestBody(content = {@Content(mediaType = "image/png"), @Content(mediaType = "image/jpeg"),
            @Content(mediaType = "application/octet-stream")})
    @APIResponse(responseCode = "201", description = "Stored",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Uploaded.class)))
    @APIResponse(responseCode = "400", description = "invalid_upload: empty, unreadable, too many pixels, or a .npy "
            + "that is not float32 little-endian C order")
    @APIResponse(responseCode = "413", description = "body_too_large: over sd.api.max-upload-bytes")
    @APIResponse(responseCode = "415", description = "unsupported_media_type: neither PNG, JPEG nor .npy")
    @APIResponse(responseCode = "503", description = "unavailable: the object store cannot be reached")
    public Response upload(InputStream body) {
        byte[] bytes = readAtMost(body, api.maxUploadBytes());
        UploadedFile file = UploadedFile.of(bytes);
        String key = PREFIX + UUID.randomUUID() + file.extension();
        try {
            store.put(key, bytes, file.contentType(), Map.of("uploaded-as", file.kind().field));
        } catch (StorageException e) {
            LOG.warnf("Upload not stored: %s", e.getMessage());
            throw new ApiException(503, "unavailable", "the object store cannot be reached; retry later", List.of(),
                    api.retryAfter());
        }
        List<Long> shape = file.shape() == null ? null : Arrays.stream(file.shape()).boxed().toList();
        return Response.status(201).entity(new Uploaded(key, file.kind().field, file.contentType(), bytes.length,
                file.width(), file.height(), shape)).build();
    }

    /** The body, refused with 413 as soon as it passes {@code max} bytes rather than read whole first. */
    private static byte[] readAtMost(InputStream body, int max) {
        if (body == null) {
            return new byte[0];
        }
        try {
            byte[] bytes = body.readNBytes(max + 1);
            if (bytes.length > max) {
                throw ApiException.field(413, "body_too_large", "(body)", "must be at most " + max
                        + " bytes (sd.api.max-upload-bytes)");
            }
            return bytes;
        } catch (IOException e) {
            throw UploadedFile.invalid(400, "invalid_upload", "could not be read to its end: " + e.getMessage());
        }
    }
}
