package dev.latentpipeline.embedded;

import java.io.IOException;
import java.util.Locale;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

import org.gaul.s3proxy.checksum.FlexChecksum;

/**
 * In front of S3Proxy's servlet: an upload whose body is {@code aws-chunked} with its checksum in a trailer
 * (what the AWS SDKs send by default, signed chunks over HTTP, unsigned over HTTPS) is read through a
 * {@link TrailerChecksumInputStream}, so the trailer is checked before the object is kept. Every other request
 * passes untouched.
 */
final class TrailerChecksumFilter implements Filter {

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest http) {
            FlexChecksum algorithm = trailerChecksum(http);
            long decodedLength = decodedLength(http);
            if (algorithm != null && decodedLength >= 0) {
                chain.doFilter(new Checked(http, algorithm, decodedLength), response);
                return;
            }
        }
        chain.doFilter(request, response);
    }

    /** The algorithm an aws-chunked upload announces in x-amz-trailer, or null (S3Proxy then judges the request). */
    static FlexChecksum trailerChecksum(HttpServletRequest request) {
        String encoding = request.getHeader("Content-Encoding");
        String trailer = request.getHeader("x-amz-trailer");
        if (!"PUT".equals(request.getMethod()) || trailer == null || encoding == null
                || !encoding.toLowerCase(Locale.ROOT).contains("aws-chunked")) {
            return null;
        }
        return FlexChecksum.fromHeaderName(trailer.trim());
    }

    private static long decodedLength(HttpServletRequest request) {
        String value = request.getHeader("x-amz-decoded-content-length");
        try {
            return value == null ? -1 : Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1; // S3Proxy refuses it
        }
    }

    private static final class Checked extends HttpServletRequestWrapper {
        private final FlexChecksum algorithm;
        private final long decodedLength;
        private ServletInputStream body;

        Checked(HttpServletRequest request, FlexChecksum algorithm, long decodedLength) {
            super(request);
            this.algorithm = algorithm;
            this.decodedLength = decodedLength;
        }

        @Override
        public synchronized ServletInputStream getInputStream() throws IOException {
            if (body == null) {
                ServletInputStream original = super.getInputStream();
                TrailerChecksumInputStream checked =
                        new TrailerChecksumInputStream(original, algorithm, decodedLength);
                body = new ServletInputStream() {
                    @Override
                    public int read() throws IOException {
                        return checked.read();
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        return checked.read(b, off, len);
                    }

                    @Override
                    public boolean isFinished() {
                        return original.isFinished();
                    }

                    @Override
                    public boolean isReady() {
                        return original.isReady();
                    }

                    @Override
                    public void setReadListener(ReadListener listener) {
                        throw new UnsupportedOperationException("S3Proxy reads request bodies blocking");
                    }

                    @Override
                    public void close() throws IOException {
                        checked.close();
                    }
                };
            }
            return body;
        }
    }
}
