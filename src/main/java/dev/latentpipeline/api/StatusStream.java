package dev.latentpipeline.api;

import dev.latentpipeline.api.queue.WaitingLine;
import dev.latentpipeline.api.status.JobStatus;
import dev.latentpipeline.api.status.StatusStore;
import io.smallrye.mutiny.subscription.MultiEmitter;
import java.time.Instant;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One server-sent-events subscriber's view of a job: a view at each change of the job and, while it waits, at each
 * change of its line (a job ahead starting or ending, a job joining), when its position or estimate moved. Views
 * that would show nothing new are not sent. Ends after the terminal state.
 */
final class StatusStream {
    private final String id;
    private final StatusStore store;
    private final Views views;
    private final MultiEmitter<? super GenerationView> emitter;
    /** Runs the stream's completion once whatever else it carries (previews) has caught up with the job's end. */
    private final Consumer<Runnable> beforeCompleting;
    private final Consumer<JobStatus> own = this::show;
    private final BiConsumer<JobStatus, JobStatus> line = this::lineChanged;
    private String lastShown;
    private boolean ending;

    private StatusStream(String id, StatusStore store, Views views, MultiEmitter<? super GenerationView> emitter,
            Consumer<Runnable> beforeCompleting) {
        this.id = id;
        this.store = store;
        this.views = views;
        this.emitter = emitter;
        this.beforeCompleting = beforeCompleting;
    }

    static void open(String id, StatusStore store, Views views, MultiEmitter<? super GenerationView> emitter) {
        open(id, store, views, emitter, Runnable::run, () -> { });
    }

    /**
     * @param beforeCompleting runs the completion once the stream's other content has caught up
     * @param onTermination also run when the stream ends (an emitter keeps one termination callback)
     */
    static void open(String id, StatusStore store, Views views, MultiEmitter<? super GenerationView> emitter,
            Consumer<Runnable> beforeCompleting, Runnable onTermination) {
        StatusStream stream = new StatusStream(id, store, views, emitter, beforeCompleting);
        store.watch(id, stream.own);
        store.onChange(stream.line);
        emitter.onTermination(() -> {
            store.unwatch(id, stream.own);
            store.removeChangeListener(stream.line);
            onTermination.run();
        });
        synchronized (stream) {
            // Read under the stream's lock: a change applied meanwhile is shown after this, never before it.
            stream.show(store.get(id).orElseThrow());
        }
    }

    private void lineChanged(JobStatus previous, JobStatus next) {
        if (next.id().equals(id) || (previous != null && previous.status().equals(next.status()))) {
            return; // its own changes come through the watcher; another job's progress steps move no position
        }
        store.get(id).filter(job -> WaitingLine.WAITING.contains(job.status())).ifPresent(this::show);
    }

    private synchronized void show(JobStatus job) {
        GenerationView view = views.of(job);
        String shown = String.join("|", view.status(), Objects.toString(view.progress()),
                Objects.toString(view.queuePosition()), view.eta() == null ? "" : seconds(view.eta()));
        if (job.terminal()) {
            if (!ending) {
                // The terminal view comes last: after whatever else the stream carries (previews) has caught up.
                ending = true;
                beforeCompleting.accept(() -> {
                    emitter.emit(view);
                    emitter.complete();
                });
            }
            return;
        }
        if (!shown.equals(lastShown)) {
            lastShown = shown;
            emitter.emit(view);
        }
    }

    /** An estimate that moved by less than a second is not news. */
    private static String seconds(GenerationView.Eta eta) {
        return Instant.parse(eta.startsAt()).getEpochSecond() + "-" + Instant.parse(eta.endsAt()).getEpochSecond();
    }
}
