package dev.latentpipeline.api;

import dev.latentpipeline.pipeline.RequestPriority;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** Which priorities the caller may submit at, so a client offers only those (the web page's priority picker). */
@Path("/v1/priorities")
@Produces(MediaType.APPLICATION_JSON)
public class PrioritiesResource {
    @Inject
    ApiKeyFilter auth;

    @GET
    @Operation(summary = "The priorities this caller may submit at, highest first (high needs a key of "
            + "sd.api.high-priority-keys), and the default")
    public Map<String, Object> allowed(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        boolean high = auth.mayUseHighPriority(authorization);
        List<String> allowed = Arrays.stream(RequestPriority.values())
                .filter(p -> high || p != RequestPriority.HIGH).map(RequestPriority::wireName).toList();
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("allowed", allowed);
        answer.put("default", RequestPriority.NORMAL.wireName());
        return answer;
    }
}
