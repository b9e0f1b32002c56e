// A Kafka producer that is not ours: Apache Kafka's Java client (kafka-clients), as Kafka Connect and the
// other teams' services use it, for the tests of what the stream makes of their topics.
//
// Run with Java's single-file source launcher and deploy/kafka/lib on the class path:
//   java -cp 'deploy/kafka/lib/*' OutsideProducer.java BOOTSTRAP [producer.config=value ...]
// It reads one command a line on standard input and answers each FLUSH, COMMIT and ABORT with "ok" on
// standard output once the broker has acknowledged it (so a caller knows what is on the log):
//   SEND partition key value timestamp [header ...]   key, value: hex, "-" for null, "." for empty; timestamp: epoch
//                                                     ms, or "-" for the producer's clock; header:
//                                                     hexkey=hexvalue, or hexkey=- for a null value
//   BEGIN | COMMIT | ABORT | FLUSH                     transactions need transactional.id in the config
// End of input closes the producer (an open transaction is then left to the coordinator's timeout).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class OutsideProducer {
    private static byte[] bytes(String hex) {
        return hex.equals("-") ? null : hex.equals(".") ? new byte[0] : HexFormat.of().parseHex(hex);
    }

    /** Fails if the broker refused a record sent since the last check (a caller must know what is on the log). */
    private static void check(List<Future<RecordMetadata>> sent) throws InterruptedException {
        try {
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("the broker refused a record: " + e.getCause(), e.getCause());
        } finally {
            sent.clear();
        }
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("key.serializer", ByteArraySerializer.class.getName());
        props.put("value.serializer", ByteArraySerializer.class.getName());
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        String topic = props.getProperty("newsflow.topic");
        props.remove("newsflow.topic");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            if (props.containsKey("transactional.id")) {
                producer.initTransactions();
            }
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.trim().split(" ");
                switch (f[0]) {
                    case "SEND" -> {
                        RecordHeaders headers = new RecordHeaders();
                        for (int i = 5; i < f.length; i++) {
                            String[] kv = f[i].split("=", 2);
                            headers.add(new String(bytes(kv[0]), StandardCharsets.UTF_8), bytes(kv[1]));
                        }
                        Long ts = f[4].equals("-") ? null : Long.parseLong(f[4]);
                        sent.add(producer.send(new ProducerRecord<>(
                                topic, Integer.parseInt(f[1]), ts, bytes(f[2]), bytes(f[3]), headers)));
                    }
                    case "BEGIN" -> producer.beginTransaction();
                    case "COMMIT" -> {
                        producer.flush();
                        check(sent);
                        producer.commitTransaction();
                    }
                    case "ABORT" -> {
                        producer.flush();
                        check(sent);
                        producer.abortTransaction();
                    }
                    case "FLUSH" -> {
                        producer.flush();
                        check(sent);
                    }
                    default -> throw new IllegalArgumentException("unknown command " + f[0]);
                }
                if (!f[0].equals("SEND") && !f[0].equals("BEGIN")) {
                    System.out.println("ok");
                    System.out.flush();
                }
            }
        }
    }
}
