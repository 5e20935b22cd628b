// NpAdmin: tiny Kafka admin helper used by infra/kafka.sh so that all topics are created
// in ONE JVM launch (each launch of Kafka's own TopicCommand costs ~1.5 s on this machine).
//
// Compiled once by `infra/kafka.sh fetch` (with the JDK compiler module that Debian's JRE
// ships, no javac binary needed) into the cache next to the Kafka jars.
//
// Usage: java -cp 'LIBS/*:CLASSES' NpAdmin create BOOTSTRAP NAME:PARTITIONS [NAME:PARTITIONS...]
//   - creates missing topics (replication factor 1), idempotently;
//   - an existing topic with fewer partitions than asked is grown; one with more is an error
//     (Kafka cannot shrink a topic);
//   - prints one line per topic on stdout: "<name> created|exists|grown <partitions>".
// Exit status: 0 on success, 1 on any error (message on stderr), 2 on bad usage.

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

public final class NpAdmin {
    private NpAdmin() {}

    public static void main(String[] args) {
        if (args.length < 3 || !"create".equals(args[0])) {
            System.err.println("usage: NpAdmin create BOOTSTRAP NAME:PARTITIONS [NAME:PARTITIONS...]");
            System.exit(2);
        }
        Map<String, Integer> wanted = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            String[] kv = args[i].split(":", 2);
            int n;
            try {
                n = kv.length == 2 ? Integer.parseInt(kv[1]) : -1;
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (kv[0].isEmpty() || n < 1) {
                System.err.println("NpAdmin: bad topic spec '" + args[i] + "' (want NAME:PARTITIONS)");
                System.exit(2);
            }
            wanted.put(kv[0], n);
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "netpulse-infra-admin");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        int rc = 0;
        try (Admin admin = Admin.create(props)) {
            List<NewTopic> newTopics = new ArrayList<>();
            wanted.forEach((name, n) -> newTopics.add(new NewTopic(name, n, (short) 1)));
            CreateTopicsResult created = admin.createTopics(newTopics);
            List<String> existing = new ArrayList<>();
            for (Map.Entry<String, Integer> e : wanted.entrySet()) {
                try {
                    created.values().get(e.getKey()).get(30, TimeUnit.SECONDS);
                    System.out.println(e.getKey() + " created " + e.getValue());
                } catch (ExecutionException ex) {
                    if (ex.getCause() instanceof TopicExistsException) {
                        existing.add(e.getKey());
                    } else {
                        System.err.println("NpAdmin: creating " + e.getKey() + ": " + ex.getCause());
                        rc = 1;
                    }
                }
            }
            if (!existing.isEmpty()) {
                Map<String, TopicDescription> desc =
                        admin.describeTopics(existing).allTopicNames().get(30, TimeUnit.SECONDS);
                Map<String, NewPartitions> grow = new HashMap<>();
                for (String name : existing) {
                    int have = desc.get(name).partitions().size();
                    int want = wanted.get(name);
                    if (have == want) {
                        System.out.println(name + " exists " + have);
                    } else if (have < want) {
                        grow.put(name, NewPartitions.increaseTo(want));
                    } else {
                        System.err.println("NpAdmin: topic " + name + " has " + have
                                + " partitions, more than the " + want + " asked for; Kafka cannot shrink"
                                + " a topic (delete it or use a fresh state dir)");
                        rc = 1;
                    }
                }
                if (!grow.isEmpty()) {
                    admin.createPartitions(grow).all().get(30, TimeUnit.SECONDS);
                    grow.keySet().forEach(name -> System.out.println(name + " grown " + wanted.get(name)));
                }
            }
        } catch (Exception e) {
            System.err.println("NpAdmin: " + e);
            rc = 1;
        }
        System.exit(rc);
    }
}
