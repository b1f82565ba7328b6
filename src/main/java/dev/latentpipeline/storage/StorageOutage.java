package dev.latentpipeline.storage;

import io.minio.errors.ErrorResponseException;
import io.minio.errors.InvalidResponseException;
import io.minio.errors.ServerException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Whether object storage is reachable, and how long the stages wait for it when it is not: the one owner of that
 * answer (sd.s3.outage-grace). {@link ImageStore} reports every call that reached for the server here. A call that
 * failed because the server could not be reached (connection refused or reset, time-outs, 5xx, SlowDown) starts an
 * outage, or continues the one under way; any answer from the server ends it. A failure that is the request's
 * fault (NoSuchKey for a user's init image, AccessDenied) is no outage: it fails at once, as before.
 * <p>
 * A stage whose call failed in an outage keeps its work and tries again ({@link #waitOut}, or {@link #shouldWait}
 * and {@link #backoff} where it must not block) until the outage has lasted the grace; from then on, until the
 * server answers again, every call that fails fails its request with storage_error. The grace counts from the
 * outage's start, not from each request's: a long outage fails the requests waiting on it together at its deadline,
 * and the ones that come after it at once, instead of each waiting a grace of its own.
 */
public final class StorageOutage implements ImageStore.Observer {
    private static final Logger LOG = Logger.getLogger(StorageOutage.class);
    /** Back-off between attempts: 0.5 s, doubling, at most 5 s (storage back is noticed within 5 s). */
    public static final Duration FIRST_RETRY = Duration.ofMillis(500);
    public static final Duration LAST_RETRY = Duration.ofSeconds(5);
    /** How often a blocked wait looks whether its message must hand on. */
    private static final long SLICE_NANOS = Duration.ofMillis(250).toNanos();
    /** S3 error codes that say "not now" rather than "never": throttling, a server starting or overloaded. */
    private static final Set<String> TRANSIENT_CODES = Set.of("SlowDown", "ServiceUnavailable", "InternalError",
            "RequestTimeout", "ServerBusy", "XMinioServerNotInitialized");
    private static final Pattern NON_XML_STATUS = Pattern.compile("Response code: (\\d+)");

    /** An outage under way: since when, for how long, the grace, and the last failure's message. */
    public record Outage(Instant since, Duration lasted, Duration grace, String lastError, long failedCalls) {
        public boolean pastGrace() {
            return lasted.compareTo(grace) >= 0;
        }
    }

    /** Thrown by {@link #waitOut} when the work must hand on (its partition moves, the worker stops) meanwhile. */
    public static final class HandedOn extends RuntimeException {
        HandedOn(String why, StorageException last) {
            super(why, last);
        }
    }

    private final Duration grace;
    private final LongSupplier nanoTime;

    // Guarded by this.
    private boolean down;
    private long sinceNanos;
    private Instant since;
    private String lastError;
    private long failedCalls;
    private boolean gaveUp;

    public StorageOutage(Duration grace) {
        this(grace, System::nanoTime);
    }

    StorageOutage(Duration grace, LongSupplier nanoTime) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("sd.s3.outage-grace must not be negative, got " + grace);
        }
        this.grace = grace;
        this.nanoTime = nanoTime;
    }

    public Duration grace() {
        return grace;
    }

    /**
     * Whether {@code error} says object storage could not be reached (rather than that it refused this request):
     * an I/O failure (connection refused or reset, a time-out, an unknown host), a 5xx or 429 answer (an S3 error or
     * a proxy's page), or an S3 error code for throttling or a server not ready.
     */
    public static boolean isOutage(Throwable error) {
        if (!(error instanceof StorageException e)) {
            return false;
        }
        Throwable cause = e.getCause();
        if (cause instanceof ErrorResponseException answer) {
            int status = answer.response() == null ? 0 : answer.response().code();
            return status >= 500 || status == 429 || TRANSIENT_CODES.contains(e.errorCode());
        }
        if (cause instanceof InvalidResponseException answer) {
            // A body that is no S3 error (a proxy's page): the SDK keeps the status only in its message.
            Matcher status = NON_XML_STATUS.matcher(String.valueOf(answer.getMessage()));
            return status.find() && (Integer.parseInt(status.group(1)) >= 500 || status.group(1).equals("429"));
        }
        return cause instanceof ServerException || cause instanceof IOException;
    }

    @Override
    public synchronized void answered() {
        if (down) {
            LOG.infof("Object storage answers again after %s unreachable (%d failed call(s)); waiting work goes on",
                    human(elapsed()), failedCalls);
            down = false;
            gaveUp = false;
            lastError = null;
            failedCalls = 0;
        }
    }

    @Override
    public synchronized void failed(StorageException e) {
        if (isOutage(e)) {
            record(e);
        } else if (e.getCause() instanceof ErrorResponseException) {
            answered(); // the server answered, refusing this one call
        }
    }

    private void record(StorageException e) {
        failedCalls++;
        lastError = e.getMessage();
        if (!down) {
            down = true;
            sinceNanos = nanoTime.getAsLong();
            since = Instant.now();
            LOG.warnf("Object storage unreachable (%s): stages keep the work in hand and try again for up to %s "
                    + "(sd.s3.outage-grace), taking no new work they cannot finish", e.getMessage(), human(grace));
        }
    }

    /** The outage under way, if any. */
    public synchronized Optional<Outage> current() {
        if (!down) {
            return Optional.empty();
        }
        return Optional.of(new Outage(since, elapsed(), grace, lastError, failedCalls));
    }

    /**
     * Whether work whose storage call failed with {@code error} should keep it and try again: an outage that has not
     * yet lasted the grace. False for every other error, which fails the request now.
     */
    public synchronized boolean shouldWait(Throwable error) {
        if (!isOutage(error)) {
            return false;
        }
        if (!down) {
            record((StorageException) error); // reported by a store without an observer, or answered meanwhile
        }
        if (elapsed().compareTo(grace) < 0) {
            return true;
        }
        if (!gaveUp) {
            gaveUp = true;
            LOG.errorf("Object storage unreachable for %s, past sd.s3.outage-grace (%s): requests that need it fail "
                    + "with storage_error until it answers again", human(elapsed()), human(grace));
        }
        return false;
    }

    /** The pause before attempt {@code attempt + 1}: 0.5 s doubling to 5 s, never past the outage's deadline. */
    public synchronized Duration backoff(int attempt) {
        Duration pause = FIRST_RETRY.multipliedBy(1L << Math.min(attempt, 10));
        if (pause.compareTo(LAST_RETRY) > 0) {
            pause = LAST_RETRY;
        }
        if (down) {
            Duration left = grace.minus(elapsed());
            if (left.compareTo(pause) < 0) {
                // One last attempt right at the deadline, so the request fails at the grace and not up to 5 s later.
                pause = left.isNegative() ? Duration.ZERO : left;
            }
        }
        return pause;
    }

    /**
     * The error a request fails with once waiting is over: an outage's failure says how long storage was
     * unreachable and that the grace is over; any other error is returned as it is.
     */
    public RuntimeException explain(RuntimeException error) {
        if (!isOutage(error)) {
            return error;
        }
        String lasted;
        synchronized (this) {
            lasted = down ? " for " + human(elapsed()) : "";
        }
        return new StorageException("object storage unreachable" + lasted + ", longer than sd.s3.outage-grace ("
                + human(grace) + ")", (StorageException) error);
    }

    /**
     * Runs {@code call}; while it fails in an outage inside the grace, runs it again after a back-off, on this thread.
     * Past the grace it throws the failure {@link #explain explained}; any other storage error at once.
     *
     * @param handOn asked between attempts: true when the work must stop and hand on ({@link HandedOn} is thrown)
     */
    public <T> T waitOut(Supplier<T> call, BooleanSupplier handOn) {
        for (int attempt = 0;; attempt++) {
            try {
                return call.get();
            } catch (StorageException e) {
                if (!shouldWait(e)) {
                    throw explain(e);
                }
                pause(backoff(attempt), handOn, e);
            }
        }
    }

    private void pause(Duration pause, BooleanSupplier handOn, StorageException last) {
        long end = nanoTime.getAsLong() + pause.toNanos();
        while (true) {
            if (handOn.getAsBoolean()) {
                throw new HandedOn("handed on while waiting for object storage", last);
            }
            long left = end - nanoTime.getAsLong();
            if (left <= 0) {
                return;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(left, SLICE_NANOS) / 1_000_000)); // back-off, not a condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HandedOn("interrupted while waiting for object storage", last);
            }
        }
    }

    private Duration elapsed() {
        return Duration.ofNanos(Math.max(0, nanoTime.getAsLong() - sinceNanos));
    }

    /** "4.0 s", "2 min 5 s". */
    static String human(Duration d) {
        long seconds = d.toSeconds();
        if (seconds < 60) {
            return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
        }
        return seconds / 60 + " min" + (seconds % 60 == 0 ? "" : " " + seconds % 60 + " s");
    }
}
