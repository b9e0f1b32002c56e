package newsflow.examples;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a newsflow topic (articles.clean, articles.duplicates or articles.dlq) with the Kafka client and
 * Apache Avro's {@link BinaryMessageDecoder}, and prints one JSON line per record.
 *
 * <p>Records are in Avro single-object encoding: the decoder finds the writer schema by the fingerprint
 * in the message, so the only thing taken from newsflow is its .avsc files. The {@code newsflow.schema}
 * header names the record's schema, so each record goes straight to its decoder; without the header every
 * decoder is tried. Timestamps print as epoch milliseconds (add Avro's TimeConversions to the data model
 * to get {@code Instant}s instead).
 */
public final class ArticleConsumer {
  private static final String USAGE =
      "usage: ArticleConsumer --bootstrap-servers HOST:PORT [--topic articles.clean] [--schemas DIR]\n"
          + "       [--group-id ID] [--max-records N] [--idle-seconds S] [--fields a,b,c]\n"
          + "Reads from the group's committed offsets (earliest when it has none). Stops after N records,\n"
          + "or after S seconds without a record once it has partitions (S=0: never).";

  private final Map<String, BinaryMessageDecoder<GenericRecord>> decoders = new LinkedHashMap<>();

  ArticleConsumer(File schemaDir) throws IOException {
    File[] files = schemaDir.listFiles((dir, name) -> name.endsWith(".avsc"));
    if (files == null || files.length == 0) {
      throw new IOException("no .avsc files in " + schemaDir);
    }
    Arrays.sort(files);
    for (File file : files) {
      Schema schema = new Schema.Parser().parse(file);
      decoders.put(schema.getFullName(), new BinaryMessageDecoder<>(GenericData.get(), schema));
    }
    // Records written with an earlier version of a schema (newsflow keeps the last release in
    // schemas/released/, the versions builds wrote between releases in schemas/earlier/) are resolved
    // to the current one: new fields get their defaults.
    for (String older : new String[] {"released", "earlier"}) {
      File[] earlier = new File(schemaDir, older).listFiles((dir, name) -> name.endsWith(".avsc"));
      for (File file : earlier == null ? new File[0] : earlier) {
        Schema schema = new Schema.Parser().parse(file);
        BinaryMessageDecoder<GenericRecord> decoder = decoders.get(schema.getFullName());
        if (decoder != null) {
          decoder.addSchema(schema);
        }
      }
    }
  }

  /** The record, decoded by the decoder the header names, or by whichever knows its fingerprint. */
  GenericRecord decode(byte[] value, String schemaName) throws IOException {
    BinaryMessageDecoder<GenericRecord> named = schemaName == null ? null : decoders.get(schemaName);
    if (named != null) {
      return named.decode(value);
    }
    for (BinaryMessageDecoder<GenericRecord> decoder : decoders.values()) {
      try {
        return decoder.decode(value);
      } catch (MissingSchemaException e) {
        // not this schema's fingerprint: try the next
      }
    }
    throw new MissingSchemaException("no schema in the schema directory has this record's fingerprint");
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--help") || !args[i].startsWith("--") || i + 1 == args.length) {
        System.err.println(USAGE);
        System.exit(args[i].equals("--help") ? 0 : 2);
      }
      opts.put(args[i].substring(2), args[++i]);
    }
    if (!opts.containsKey("bootstrap-servers")) {
      System.err.println(USAGE);
      System.exit(2);
    }
    String topic = opts.getOrDefault("topic", "articles.clean");
    long maxRecords = Long.parseLong(opts.getOrDefault("max-records", "0"));
    long idleMillis = (long) (Double.parseDouble(opts.getOrDefault("idle-seconds", "0")) * 1000);
    List<String> fields =
        opts.containsKey("fields") ? Arrays.asList(opts.get("fields").split(",")) : new ArrayList<>();
    ArticleConsumer reader = new ArticleConsumer(new File(opts.getOrDefault("schemas", "schemas")));

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, opts.get("bootstrap-servers"));
    props.put(ConsumerConfig.GROUP_ID_CONFIG, opts.getOrDefault("group-id", "newsflow-java-example"));
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    long seen = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic));
      long lastRecord = System.currentTimeMillis();
      while (maxRecords == 0 || seen < maxRecords) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
        if (records.isEmpty()) {
          if (consumer.assignment().isEmpty()) {
            lastRecord = System.currentTimeMillis(); // still joining the group: not idle yet
          } else if (idleMillis > 0 && System.currentTimeMillis() - lastRecord >= idleMillis) {
            break;
          }
          continue;
        }
        lastRecord = System.currentTimeMillis();
        Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
          out.println(reader.line(record, fields));
          done.put(
              new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
          if (maxRecords > 0 && ++seen >= maxRecords) {
            break;
          }
        }
        consumer.commitSync(done); // what was printed, not the rest of the batch
      }
    }
    out.flush();
  }

  /** One output line: where the record sits, its headers, and the decoded record (or the error). */
  String line(ConsumerRecord<byte[], byte[]> record, List<String> fields) {
    StringBuilder out = new StringBuilder("{");
    out.append("\"topic\":").append(quote(record.topic()));
    out.append(",\"partition\":").append(record.partition());
    out.append(",\"offset\":").append(record.offset());
    Map<String, String> headers = new LinkedHashMap<>();
    for (Header header : record.headers()) {
      headers.put(header.key(), header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8));
    }
    out.append(",\"headers\":{");
    String sep = "";
    for (Map.Entry<String, String> header : headers.entrySet()) {
      out.append(sep).append(quote(header.getKey())).append(':').append(quote(header.getValue()));
      sep = ",";
    }
    out.append('}');
    try {
      GenericRecord decoded = decode(record.value(), headers.get("newsflow.schema"));
      out.append(",\"schema\":").append(quote(decoded.getSchema().getFullName()));
      out.append(",\"record\":");
      if (fields.isEmpty()) {
        out.append(GenericData.get().toString(decoded));
      } else {
        out.append('{');
        sep = "";
        for (String field : fields) {
          Object value = decoded.hasField(field) ? decoded.get(field) : null;
          out.append(sep).append(quote(field)).append(':').append(GenericData.get().toString(value));
          sep = ",";
        }
        out.append('}');
      }
    } catch (IOException | RuntimeException e) {
      out.append(",\"error\":").append(quote(e.getClass().getSimpleName() + ": " + e.getMessage()));
    }
    return out.append('}').toString();
  }

  private static String quote(String text) {
    if (text == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
