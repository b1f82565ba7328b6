package dev.latentpipeline.messaging;

import com.google.protobuf.ByteString;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.preview.PreviewRenderer;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.wire.Preview;
import io.opentelemetry.context.Context;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Renders and publishes previews to sd.previews on a thread of its own, so the denoising loop only hands over a copy
 * of x0 and never waits. Jobs take turns, each with at most {@link #PER_JOB} previews waiting: when one job's come
 * faster than they render, its oldest waiting one is dropped, and a job with big, slow previews cannot hold back
 * the others'.
 */
@ApplicationScoped
public class PreviewPublisher {
    private static final Logger LOG = Logger.getLogger(PreviewPublisher.class);

    @Inject
    PipelineConfig config;
    @Inject
    PreviewRenderer renderer;
    @Inject
    StageProducer producer;

    private record Pending(Context trace, String requestId, int step, int totalSteps, FloatTensor x0) {
    }

    static final int PER_JOB = 4;
    /** The longest a finished job's hand-on waits for its last previews (a slow decoder must not hold it longer). */
    static final long MAX_WAIT_MS = 1_000;

    /** Guarded by itself: each job's previews waiting, oldest first; jobs in the order their turn comes. */
    private final LinkedHashMap<String, ArrayDeque<Pending>> pending = new LinkedHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    /** Guarded by {@link #pending}: a preview taken and not yet published, and whose it is. */
    private boolean rendering;
    private String renderingId;
    /** Guarded by {@link #pending}: who waits for a job's previews to be out ({@link #whenPublished}). */
    private final Map<String, List<CompletableFuture<Void>>> waiters = new HashMap<>();
    private Thread thread;
    private volatile boolean closed;

    /** Loads the preview decoder now and starts the rendering thread. */
    public synchronized String warmUp() {
        if (thread == null) {
            thread = new Thread(this::run, "unet-previews");
            thread.setDaemon(true);
            thread.start();
        }
        return renderer.decoder();
    }

    /** Previews dropped because they came faster than they rendered, since start. */
    public long dropped() {
        return dropped.get();
    }

    /** Previews waiting to render or rendering now: 0 once the rendering thread has caught up. */
    public int waiting() {
        synchronized (pending) {
            return pending.values().stream().mapToInt(ArrayDeque::size).sum() + (rendering ? 1 : 0);
        }
    }

    /**
     * Completes once every preview of the job handed over so far has been sent (or dropped), or after
     * {@link #MAX_WAIT_MS}. A finished job hands its latents on after this, so its last preview is published before
     * its completed event can be.
     */
    public CompletableFuture<Void> whenPublished(String requestId) {
        synchronized (pending) {
            if (!pending.containsKey(requestId) && !requestId.equals(renderingId)) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> out = new CompletableFuture<>();
            waiters.computeIfAbsent(requestId, id -> new ArrayList<>()).add(out);
            return out.completeOnTimeout(null, MAX_WAIT_MS, TimeUnit.MILLISECONDS);
        }
    }

    public void publish(Context trace, String requestId, int step, int totalSteps, FloatTensor predictedOriginal) {
        warmUp();
        synchronized (pending) {
            ArrayDeque<Pending> job = pending.computeIfAbsent(requestId, id -> new ArrayDeque<>());
            if (job.size() >= PER_JOB) {
                job.poll();
                dropped.incrementAndGet();
            }
            job.add(new Pending(trace, requestId, step, totalSteps, predictedOriginal));
            pending.notifyAll();
        }
    }

    private Pending next() throws InterruptedException {
        synchronized (pending) {
            while (pending.isEmpty()) {
                pending.wait();
            }
            // The job whose turn it is gives its oldest preview, then goes to the back of the line.
            String first = pending.keySet().iterator().next();
            ArrayDeque<Pending> job = pending.remove(first);
            Pending next = job.poll();
            if (!job.isEmpty()) {
                pending.put(first, job);
            }
            rendering = true;
            renderingId = first;
            return next;
        }
    }

    private void run() {
        while (!closed) {
            Pending p;
            try {
                p = next();
            } catch (InterruptedException e) {
                return;
            }
            try {
                for (PreviewRenderer.Rendered image : renderer.render(p.x0())) {
                    Preview preview = Preview.newBuilder().setRequestId(p.requestId()).setImageIndex(image.index())
                            .setStep(p.step()).setTotalSteps(p.totalSteps()).setWidth(image.width())
                            .setHeight(image.height()).setContentType(image.contentType())
                            .setImage(ByteString.copyFrom(image.bytes())).setDecoder(image.decoder())
                            .setCreatedAtMs(System.currentTimeMillis()).build();
                    producer.send(p.trace(), config.topics().previews(), null, p.requestId() + "/" + image.index(),
                            preview.toByteArray());
                }
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.warnf(e, "Preview of %s at step %d not published", p.requestId(), p.step());
                }
            } finally {
                List<CompletableFuture<Void>> done = null;
                synchronized (pending) {
                    rendering = false;
                    renderingId = null;
                    if (!pending.containsKey(p.requestId())) {
                        done = waiters.remove(p.requestId());
                    }
                }
                if (done != null) {
                    done.forEach(f -> f.complete(null));
                }
            }
        }
    }

    @PreDestroy
    void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
