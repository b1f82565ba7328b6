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
import java.util.LinkedHashMap;
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

    /** Guarded by itself: each job's previews waiting, oldest first; jobs in the order their turn comes. */
    private final LinkedHashMap<String, ArrayDeque<Pending>> pending = new LinkedHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    /** Guarded by {@link #pending}: a preview taken and not yet published. */
    private boolean rendering;
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
                synchronized (pending) {
                    rendering = false;
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
