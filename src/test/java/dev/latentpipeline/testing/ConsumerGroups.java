package dev.latentpipeline.testing;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;

/** What the broker knows about the pipeline's consumer groups: who is in them, and how far behind they are. */
public final class ConsumerGroups implements AutoCloseable {
    private final Admin admin;

    public ConsumerGroups(String bootstrapServers) {
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /** Client ids of the members that hold at least one partition, when the group is stable; else empty. */
    public Set<String> assignedMembers(String group) {
        try {
            ConsumerGroupDescription d = admin.describeConsumerGroups(Set.of(group)).all()
                    .get(10, TimeUnit.SECONDS).get(group);
            if (d.groupState() != GroupState.STABLE) {
                return Set.of();
            }
            return d.members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty())
                    .map(MemberDescription::clientId).collect(Collectors.toSet());
        } catch (Exception e) {
            throw new IllegalStateException("cannot describe group " + group, e);
        }
    }

    public int assignedMemberCount(String group) {
        return assignedMembers(group).size();
    }

    /** Messages of {@code topic} the group has not committed yet (summed over partitions). */
    public long lag(String group, String topic) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Collection<TopicPartition> partitions = admin.describeTopics(Set.of(topic)).allTopicNames()
                    .get(10, TimeUnit.SECONDS).get(topic).partitions().stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end = admin.listOffsets(
                    partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
                    .all().get(10, TimeUnit.SECONDS);
            long lag = 0;
            for (TopicPartition p : partitions) {
                OffsetAndMetadata c = committed.get(p);
                lag += end.get(p).offset() - (c == null ? 0 : c.offset());
            }
            return lag;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the lag of " + group, e);
        }
    }

    /** Waits until every group has committed everything on its topic: nothing is queued or in flight. */
    public void awaitIdle(Map<String, String> groupToTopic, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, Long> lags = groupToTopic.entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> lag(e.getKey(), e.getValue())));
            if (lags.values().stream().allMatch(l -> l == 0)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("consumer groups still behind after " + timeout + ": " + lags);
            }
            try {
                Thread.sleep(200); // polling the broker's view; the condition above is what is awaited
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    @Override
    public void close() {
        admin.close();
    }
}
