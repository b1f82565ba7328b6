package dev.latentpipeline.messaging;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The stage consumers this process runs, for health checks and for SIGTERM: on shutdown, before anything else
 * closes, every stage stops taking work, lets its work in hand finish or hand on, commits and leaves its group, all
 * stages at once (each bounded by sd.unet.shutdown-grace).
 */
@ApplicationScoped
public class StageConsumers {
    private final List<StageConsumer> running = new CopyOnWriteArrayList<>();

    void register(StageConsumer consumer) {
        running.add(consumer);
    }

    public List<StageConsumer> all() {
        return List.copyOf(running);
    }

    void stopAll(@Observes @Priority(1) ShutdownEvent event) {
        List<Thread> stopping = running.stream().map(c -> {
            Thread t = new Thread(c::stop, "stop-" + c.stage());
            t.start();
            return t;
        }).toList();
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
