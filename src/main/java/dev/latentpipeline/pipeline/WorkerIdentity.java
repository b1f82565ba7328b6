package dev.latentpipeline.pipeline;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** This worker's stable id in events: sd.worker-id, or host:pid. */
@ApplicationScoped
public class WorkerIdentity {
    private final String id;

    @Inject
    public WorkerIdentity(PipelineConfig config) {
        this.id = config.workerId().filter(s -> !s.isBlank()).orElseGet(WorkerIdentity::hostAndPid);
    }

    private static String hostAndPid() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        return host + ":" + ProcessHandle.current().pid();
    }

    public String id() {
        return id;
    }
}
