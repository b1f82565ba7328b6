package dev.latentpipeline.api;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * One profile for every gateway test (each distinct profile restarts Quarkus and the broker): API keys on, a webhook
 * secret, loopback admitted for the local webhook receivers, short webhook retry window, a small in-flight bound, and
 * one job at a time on the UNet (no batching, no side checkpoints), so a long job keeps the one UNet worker busy while
 * others wait in line; the first API key may submit high priority, and low priority gets one turn in 4.
 */
public class GatewayTestProfile implements QuarkusTestProfile {
    public static final String KEY = "test-key-alpha";
    public static final String OTHER_KEY = "test-key-beta";
    /** whsec_ + base64 of 32 bytes 0x01..0x20. */
    public static final String SECRET = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    public static final int MAX_IN_FLIGHT = 6;
    /** Lower priority gets every 4th turn while higher priority waits. */
    public static final int PRIORITY_SHARE = 4;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.ofEntries(
                Map.entry("sd.api.keys", KEY + "," + OTHER_KEY),
                Map.entry("sd.webhook.secret", SECRET),
                Map.entry("sd.webhook.allow", "127.0.0.0/8,::1"),
                Map.entry("sd.webhook.retry-for", "4s"),
                Map.entry("sd.webhook.initial-backoff", "200ms"),
                Map.entry("sd.webhook.max-backoff", "1s"),
                Map.entry("sd.api.max-in-flight", Integer.toString(MAX_IN_FLIGHT)),
                Map.entry("sd.unet.checkpoint-every", "never"),
                Map.entry("sd.unet.max-batch", "1"),
                Map.entry("sd.api.high-priority-keys", KEY),
                Map.entry("sd.priority.share", Integer.toString(PRIORITY_SHARE)));
    }
}
