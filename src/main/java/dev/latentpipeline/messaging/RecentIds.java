package dev.latentpipeline.messaging;

import java.util.LinkedHashMap;
import java.util.Map;

/** The last {@code capacity} ids seen, oldest forgotten first; thread-safe. */
final class RecentIds {
    private final Map<String, Boolean> ids;

    RecentIds(int capacity) {
        this.ids = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    synchronized void add(String id) {
        ids.put(id, Boolean.TRUE);
    }

    synchronized boolean contains(String id) {
        return id != null && ids.containsKey(id);
    }
}
