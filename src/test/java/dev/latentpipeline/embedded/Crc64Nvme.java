package dev.latentpipeline.embedded;

/**
 * CRC-64/NVME, bit by bit from its catalogue parameters (poly 0xAD93D23594C93659 reflected, init and xorout all
 * ones), so the test's expected checksums do not come from the server's or the SDK's implementation. The Java
 * SDK computes this algorithm only through its optional native CRT module.
 */
final class Crc64Nvme {
    private static final long REFLECTED_POLY = 0x9A6C9329AC4BC9B5L;

    private Crc64Nvme() {
    }

    static long of(byte[] data) {
        long crc = -1L;
        for (byte b : data) {
            crc ^= b & 0xFFL;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ REFLECTED_POLY : crc >>> 1;
            }
        }
        return ~crc;
    }
}
