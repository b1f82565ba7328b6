package dev.latentpipeline.api.webhook;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Refuses callback URLs that reach into the deployment's own network (SSRF): loopback, private, link-local
 * (cloud metadata at 169.254.169.254 included), unique-local, carrier-grade NAT, multicast and unspecified
 * addresses, unless the allow-list (host names or CIDRs) admits the host or every address it resolves to.
 */
public final class CallbackUrlPolicy {
    private final List<String> hosts = new ArrayList<>();
    private final List<Cidr> cidrs = new ArrayList<>();

    public CallbackUrlPolicy(List<String> allow) {
        for (String entry : allow) {
            String e = entry.trim().toLowerCase(Locale.ROOT);
            if (e.isEmpty()) {
                continue;
            }
            Optional<Cidr> cidr = Cidr.parse(e);
            if (cidr.isPresent()) {
                cidrs.add(cidr.get());
            } else {
                hosts.add(e);
            }
        }
    }

    /** Empty when the URL may be called; otherwise why not. */
    public Optional<String> refusal(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return Optional.of("is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return Optional.of("must be an http or https URL");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            return Optional.of("has no host");
        }
        if (uri.getUserInfo() != null) {
            return Optional.of("must not carry credentials");
        }
        String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (hosts.contains(bare.toLowerCase(Locale.ROOT))) {
            return Optional.empty();
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(bare);
        } catch (UnknownHostException e) {
            return Optional.of("host " + bare + " does not resolve");
        }
        for (InetAddress address : addresses) {
            if (internal(address) && cidrs.stream().noneMatch(c -> c.contains(address))) {
                return Optional.of("resolves to " + address.getHostAddress()
                        + ", an internal address (loopback, private, link-local or metadata); "
                        + "admit it with sd.webhook.allow if intended");
            }
        }
        return Optional.empty();
    }

    static boolean internal(InetAddress a) {
        if (a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress()
                || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (b.length == 4) {
            int first = b[0] & 0xFF;
            int second = b[1] & 0xFF;
            return first == 0 || (first == 100 && second >= 64 && second < 128) // carrier-grade NAT
                    || (first == 192 && second == 0 && (b[2] & 0xFF) == 0) // IETF protocol assignments
                    || first >= 240; // reserved and broadcast
        }
        // IPv6 unique-local fc00::/7, and IPv4-mapped addresses judged as their IPv4 address.
        if ((b[0] & 0xFE) == 0xFC) {
            return true;
        }
        boolean mapped = true;
        for (int i = 0; i < 10; i++) {
            mapped &= b[i] == 0;
        }
        if (mapped && (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF) {
            try {
                return internal(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
            } catch (UnknownHostException e) {
                return true;
            }
        }
        return false;
    }

    /** An address block such as 127.0.0.0/8 or ::1/128; a bare address is a block of one. */
    record Cidr(byte[] network, int prefix) {
        static Optional<Cidr> parse(String text) {
            String[] parts = text.split("/", 2);
            if (!parts[0].matches("[0-9.]+") && !parts[0].contains(":")) {
                return Optional.empty(); // a host name
            }
            try {
                byte[] network = InetAddress.getByName(parts[0]).getAddress();
                int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : network.length * 8;
                if (prefix < 0 || prefix > network.length * 8) {
                    throw new IllegalArgumentException("bad prefix in sd.webhook.allow entry " + text);
                }
                return Optional.of(new Cidr(network, prefix));
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("bad sd.webhook.allow entry " + text, e);
            }
        }

        boolean contains(InetAddress address) {
            byte[] a = address.getAddress();
            if (a.length != network.length) {
                return false;
            }
            int bits = a.length * 8;
            BigInteger mask = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE)
                    .shiftRight(prefix).not();
            return new BigInteger(1, a).and(mask).equals(new BigInteger(1, network).and(mask));
        }
    }
}
