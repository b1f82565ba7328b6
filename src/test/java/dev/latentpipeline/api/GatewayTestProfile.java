package dev.latentpipeline.api;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * One profile for every gateway test (each distinct profile restarts Quarkus and the broker): API keys on, a webhook
 * secret, loopback admitted for the local webhook receivers, short webhook retry window, a small in-flight bound, and
 * one job at a time on the UNet (no batching, no side checkpoints), so a long job keeps the one UNet worker busy while
 * others wait in line.
 */
public class GatewayTestProfile implements QuarkusTestProfile {
    public static final String KEY = "test-key-alpha";
    public static final String OTHER_KEY = "test-key-beta";
    /** whsec_ + base64 of 32 bytes 0x01..0x20. */
    public static final String SECRET = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    public static final int MAX_IN_FLIGHT = 6;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "sd.api.keys", KEY + "," + OTHER_KEY,
                "sd.webhook.secret", SECRET,
                "sd.webhook.allow", "127.0.0.0/8,::1",
                "sd.webhook.retry-for", "4s",
                "sd.webhook.initial-backoff", "200ms",
                "sd.webhook.max-backoff", "1s",
                "sd.api.max-in-flight", Integer.toString(MAX_IN_FLIGHT),
                "sd.unet.checkpoint-every", "never",
                "sd.unet.max-batch", "1");
    }
}
