package dev.latentpipeline.api.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Standard Webhooks signatures: {@code webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">} with the
 * secret's bytes, the secret written as {@code whsec_<base64>}.
 */
public final class WebhookSigner {
    public static final String PREFIX = "whsec_";
    private final byte[] key;

    public WebhookSigner(String secret) {
        this.key = decode(secret);
    }

    static byte[] decode(String secret) {
        if (secret == null || !secret.startsWith(PREFIX)) {
            throw new IllegalArgumentException("sd.webhook.secret must look like whsec_<base64>");
        }
        try {
            byte[] key = Base64.getDecoder().decode(secret.substring(PREFIX.length()));
            if (key.length < 16) {
                throw new IllegalArgumentException("sd.webhook.secret must hold at least 16 bytes");
            }
            return key;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sd.webhook.secret is not whsec_<base64>: " + e.getMessage(), e);
        }
    }

    /** The webhook-signature header value. */
    public String sign(String messageId, long timestampSeconds, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] digest = mac.doFinal((messageId + "." + timestampSeconds + "." + body)
                    .getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }
}
