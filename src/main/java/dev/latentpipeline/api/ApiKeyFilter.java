package dev.latentpipeline.api;

import dev.latentpipeline.api.problem.ApiException;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Guards /v1: only a process running the gateway role answers there, and with sd.api.keys set only a request with
 * {@code Authorization: Bearer <one of the keys>}.
 */
@ApplicationScoped
public class ApiKeyFilter {
    private static final Logger LOG = Logger.getLogger(ApiKeyFilter.class);

    @Inject
    ApiConfig api;
    @Inject
    PipelineConfig pipeline;

    private List<byte[]> keys;
    private boolean gateway;

    void start(@Observes StartupEvent event) {
        keys = api.keys().orElse(List.of()).stream().map(String::trim).filter(k -> !k.isEmpty())
                .map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
        gateway = Role.parse(pipeline.roles()).contains(Role.GATEWAY);
        if (gateway && keys.isEmpty()) {
            LOG.warn("The HTTP API is OPEN: no API keys are configured (set sd.api.keys / SD_API_KEYS)");
        } else if (gateway) {
            LOG.infof("The HTTP API requires one of %d API keys (Authorization: Bearer)", keys.size());
        }
    }

    @ServerRequestFilter
    public Optional<jakarta.ws.rs.core.Response> check(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/v1")) {
            return Optional.empty();
        }
        if (!gateway) {
            throw ApiException.notFound("this process does not run the gateway role");
        }
        if (keys.isEmpty()) {
            return Optional.empty();
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null || header.isBlank()) {
            throw ApiException.field(401, "unauthorized", "Authorization", "an API key is required: "
                    + "Authorization: Bearer <key>");
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.field(401, "unauthorized", "Authorization", "use the Bearer scheme");
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        boolean match = false;
        for (byte[] key : keys) {
            // Constant-time comparison, and no early exit, so timing tells nothing about the keys.
            match |= MessageDigest.isEqual(key, given);
        }
        if (!match) {
            throw ApiException.field(401, "unauthorized", "Authorization", "the API key is not valid");
        }
        return Optional.empty();
    }

    /** Whether the caller may submit high-priority work (sd.api.high-priority-keys). */
    public boolean mayUseHighPriority(String authorization) {
        List<String> allowed = api.highPriorityKeys().orElse(List.of());
        if (allowed.contains("*")) {
            return true;
        }
        if (authorization == null || authorization.length() < 7) {
            return false;
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return allowed.stream().anyMatch(k -> MessageDigest.isEqual(k.getBytes(StandardCharsets.UTF_8), given));
    }

    /** Who is calling, for scoping Idempotency-Key: the key's index, or "open". */
    public String caller(String authorization) {
        if (keys.isEmpty() || authorization == null || authorization.length() < 7) {
            return "open";
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < keys.size(); i++) {
            if (MessageDigest.isEqual(keys.get(i), given)) {
                return "key" + i;
            }
        }
        return "open";
    }
}
