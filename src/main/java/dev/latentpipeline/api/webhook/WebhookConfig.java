package dev.latentpipeline.api.webhook;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** sd.webhook.*: signing secret, callback allow-list, retry policy and how replicas share deliveries. */
@ConfigMapping(prefix = "sd.webhook")
public interface WebhookConfig {

    /** Standard Webhooks secret, whsec_<base64> (SD_WEBHOOK_SECRET); none: callback_url is refused. */
    Optional<String> secret();

    /** Hosts or CIDRs admitted although private, loopback or link-local (SD_WEBHOOK_ALLOW, comma-separated). */
    Optional<List<String>> allow();

    /** How long after the job ended deliveries are retried before the webhook is dead-lettered. */
    @WithName("retry-for")
    @WithDefault("1h")
    Duration retryFor();

    /** First retry delay; each later one doubles, up to max-backoff, each with up to 50% random jitter. */
    @WithName("initial-backoff")
    @WithDefault("1s")
    Duration initialBackoff();

    @WithName("max-backoff")
    @WithDefault("5m")
    Duration maxBackoff();

    /** Connect and response timeout of one delivery attempt. */
    @WithDefault("10s")
    Duration timeout();

    /**
     * Consumer group of the gateway replicas that share deliveries, one per deployment: each job's webhook is sent by
     * the replica holding its sd.events partition.
     */
    @WithDefault("sd-gateway-webhooks")
    String group();

    /** How long the broker waits for a silent replica before its share of webhooks moves to the others. */
    @WithName("session-timeout")
    @WithDefault("10s")
    Duration sessionTimeout();
}
