package dev.latentpipeline.messaging;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * A worker thread that handles one message at a time, for the stages whose work is short (text encoding, VAE
 * decoding). A message counts as done once everything its handler sent is on the broker; then its offset is
 * committed, and the next message is taken only once the broker acknowledged that commit. A handler whose sends
 * failed (the broker unreachable) is run again after a back-off, until it succeeds or the message must be handed
 * on (then it is released, uncommitted, for the partition's next owner). A handler that waits for object storage
 * ({@code StorageOutage}) does so inside its call, on this thread: either way nothing new is taken meanwhile, and
 * the consumer stops fetching once its prefetch is full.
 */
final class SerialWorker {
    private static final Logger LOG = Logger.getLogger(SerialWorker.class);
    static final Duration TAKE_WAIT = Duration.ofSeconds(1);
    static final Duration SEND_WAIT = Duration.ofSeconds(60);
    static final Duration COMMIT_WAIT = Duration.ofSeconds(30);
    static final Duration FIRST_RETRY = Duration.ofMillis(500);
    static final Duration LAST_RETRY = Duration.ofSeconds(30);
    /** A back-off looks this often whether its message must hand on, so SIGTERM never waits out a 30 s pause. */
    static final Duration BACK_OFF_SLICE = Duration.ofMillis(250);

    private final StageConsumer consumer;
    private final Function<Delivery, CompletableFuture<Void>> handler;

    private SerialWorker(StageConsumer consumer, Function<Delivery, CompletableFuture<Void>> handler) {
        this.consumer = consumer;
        this.handler = handler;
    }

    static void start(StageConsumer consumer, Function<Delivery, CompletableFuture<Void>> handler, String name) {
        Thread thread = new Thread(new SerialWorker(consumer, handler)::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (consumer.running()) {
            Delivery delivery;
            try {
                delivery = consumer.take(TAKE_WAIT);
            } catch (InterruptedException e) {
                return;
            }
            if (delivery != null) {
                handle(delivery);
            }
        }
    }

    private void handle(Delivery delivery) {
        Duration retry = FIRST_RETRY;
        while (true) {
            try {
                handler.apply(delivery).get(SEND_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                break;
            } catch (InterruptedException e) {
                delivery.release();
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                if (delivery.mustYield()) {
                    LOG.warnf("%s: %s could not be handled (%s) and is handed on", consumer.stage(), delivery,
                            cause.toString());
                    delivery.release();
                    return;
                }
                LOG.warnf("%s: %s could not be handled (%s); trying again in %d ms", consumer.stage(), delivery,
                        cause.toString(), retry.toMillis());
                try {
                    backOff(retry, delivery);
                } catch (InterruptedException interrupted) {
                    delivery.release();
                    Thread.currentThread().interrupt();
                    return;
                }
                if (delivery.mustYield()) {
                    LOG.infof("%s: %s is handed on before its next attempt", consumer.stage(), delivery);
                    delivery.release();
                    return;
                }
                retry = retry.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : retry.multipliedBy(2);
            }
        }
        end(delivery);
    }

    /** Sleeps {@code pause} between attempts, waking early when the message must hand on (the next turn sees it). */
    private static void backOff(Duration pause, Delivery delivery) throws InterruptedException {
        long end = System.nanoTime() + pause.toNanos();
        long left;
        while ((left = end - System.nanoTime()) > 0 && !delivery.mustYield()) {
            // A back-off between attempts, not a wait for a condition.
            Thread.sleep(Math.max(1, Math.min(left / 1_000_000, BACK_OFF_SLICE.toMillis())));
        }
    }

    private void end(Delivery delivery) {
        try {
            delivery.done().get(COMMIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warnf("%s: the commit after %s was not acknowledged in %s; going on", consumer.stage(), delivery,
                    COMMIT_WAIT);
        }
    }
}
