package dev.latentpipeline.observability;

import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.model.family.TextEncoderSpec;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready once every model this process's roles run is open in ONNX Runtime. Never loads one itself. */
@Readiness
@ApplicationScoped
public class ModelsReadiness implements HealthCheck {
    public static final String NAME = "sd-models";

    @Inject
    PipelineConfig config;
    @Inject
    ModelRepository models;

    /** The ONNX sub-models (ModelRepository names) a role needs before it can take work. */
    List<String> modelsOf(Role role) {
        return switch (role) {
            // SDXL has two text encoders: the model family knows which.
            case TEXT_ENCODER -> models.family().textEncoders().stream().map(TextEncoderSpec::folder).toList();
            case UNET -> List.of("unet");
            case VAE -> List.of("vae_decoder");
            case GATEWAY -> List.of();
        };
    }

    @Override
    public HealthCheckResponse call() {
        Set<String> open = models.openModels();
        List<String> missing = new ArrayList<>();
        for (Role role : Role.parse(config.roles())) {
            modelsOf(role).stream().filter(m -> !open.contains(m)).forEach(missing::add);
        }
        HealthCheckResponseBuilder response = HealthCheckResponse.named(NAME).status(missing.isEmpty())
                .withData("roles", config.roles())
                .withData("loaded", String.join(",", open.stream().sorted().toList()));
        if (!missing.isEmpty()) {
            response.withData("missing", String.join(",", missing));
        }
        return response.build();
    }
}
