import dev.latentpipeline.embedded.EmbeddedKafka;
import dev.latentpipeline.embedded.EmbeddedS3;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The infrastructure for deploy/memory/measure.sh: the app's own embedded Kafka broker (KRaft) and S3 server on
 * free ports, in a JVM of their own that is not measured. Prints "bootstrap=<host:port> s3=<url>" and runs until
 * killed. Run from the repository root with the packaged app on the class path:
 *   java -cp 'target/quarkus-app/app/*:target/quarkus-app/lib/main/*' deploy/memory/Infrastructure.java DIR
 */
public class Infrastructure {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "target/memory-infra");
        Files.createDirectories(dir);
        EmbeddedKafka kafka = EmbeddedKafka.builder().port(0).logDir(dir.resolve("kafka")).start();
        EmbeddedS3 s3 = EmbeddedS3.builder().port(0).dataDir(dir.resolve("s3"))
                .credentials("latent", "latent-pipeline-secret").start();
        System.out.println("bootstrap=" + kafka.bootstrapServers() + " s3=" + s3.endpoint());
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s3.close();
            kafka.close();
        }));
        Thread.currentThread().join();
    }
}
