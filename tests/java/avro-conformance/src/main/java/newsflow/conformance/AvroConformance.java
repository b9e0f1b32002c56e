package newsflow.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Apache Avro's Java library answering requests, one JSON object per line on stdin, one answer per line on
 * stdout, so a whole test session shares one JVM. Requests name schema files by path:
 *
 * <ul>
 *   <li>{"cmd":"fingerprint","schema":P}: SchemaNormalization's canonical form and parsingFingerprint64.
 *   <li>{"cmd":"decode","schema":P,"value":BASE64}: BinaryMessageDecoder with that schema; the record in
 *       Avro's JSON encoding, and BinaryMessageEncoder's bytes for it (to compare with the input).
 *   <li>{"cmd":"encode","schema":P,"json":TEXT}: a record given in Avro's JSON encoding, written by
 *       BinaryMessageEncoder.
 *   <li>{"cmd":"compat","reader":P,"writer":P}: SchemaCompatibility's verdict and each incompatibility.
 *   <li>{"cmd":"mentions","schema":P,"value":BASE64}: for each entity mention of a decoded Article, its
 *       {@code text}, {@code body.substring(start, end)} ({@code utf16}) and the substring between the
 *       {@code start}-th and {@code end}-th code points ({@code code_points}).
 * </ul>
 *
 * A failed request answers {"error": "ExceptionClass: message"}; the process carries on.
 */
public final class AvroConformance {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, Schema> schemas = new HashMap<>();

  public static void main(String[] args) throws IOException {
    AvroConformance tool = new AvroConformance();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    out.println("{\"ready\":true}");
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isBlank()) {
        continue;
      }
      ObjectNode answer;
      try {
        answer = tool.handle(JSON.readTree(line));
      } catch (Exception e) {
        answer = JSON.createObjectNode().put("error", e.getClass().getName() + ": " + e.getMessage());
      }
      out.println(JSON.writeValueAsString(answer));
    }
  }

  private Schema schema(String path) throws IOException {
    Schema known = schemas.get(path);
    if (known == null) {
      known = new Schema.Parser().parse(new File(path));
      schemas.put(path, known);
    }
    return known;
  }

  private ObjectNode handle(JsonNode request) throws IOException {
    String cmd = request.path("cmd").asText();
    ObjectNode answer = JSON.createObjectNode();
    switch (cmd) {
      case "fingerprint" -> {
        Schema schema = schema(request.get("schema").asText());
        answer.put("full_name", schema.getFullName());
        answer.put("canonical", SchemaNormalization.toParsingForm(schema));
        answer.put("fingerprint", SchemaNormalization.parsingFingerprint64(schema));
      }
      case "decode" -> {
        Schema schema = schema(request.get("schema").asText());
        byte[] value = Base64.getDecoder().decode(request.get("value").asText());
        BinaryMessageDecoder<GenericRecord> decoder = new BinaryMessageDecoder<>(GenericData.get(), schema);
        GenericRecord record = decoder.decode(value);
        answer.put("full_name", record.getSchema().getFullName());
        answer.put("json", toJson(record));
        ByteBuffer again = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record);
        byte[] bytes = new byte[again.remaining()];
        again.get(bytes);
        answer.put("reencoded", Base64.getEncoder().encodeToString(bytes));
      }
      case "encode" -> {
        Schema schema = schema(request.get("schema").asText());
        GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
        GenericRecord record =
            reader.read(null, DecoderFactory.get().jsonDecoder(schema, request.get("json").asText()));
        ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        answer.put("value", Base64.getEncoder().encodeToString(bytes));
      }
      case "compat" -> {
        Schema reader = schema(request.get("reader").asText());
        Schema writer = schema(request.get("writer").asText());
        SchemaCompatibility.SchemaCompatibilityResult result =
            SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult();
        answer.put("compatible", result.getCompatibility() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        ArrayNode problems = answer.putArray("incompatibilities");
        for (SchemaCompatibility.Incompatibility each : result.getIncompatibilities()) {
          problems
              .addObject()
              .put("type", each.getType().name())
              .put("location", each.getLocation())
              .put("message", each.getMessage());
        }
      }
      case "mentions" -> {
        Schema schema = schema(request.get("schema").asText());
        byte[] value = Base64.getDecoder().decode(request.get("value").asText());
        GenericRecord article = new BinaryMessageDecoder<GenericRecord>(GenericData.get(), schema).decode(value);
        String body = article.get("body").toString();
        ArrayNode found = answer.putArray("mentions");
        for (Object entity : (Iterable<?>) article.get("entities")) {
          for (Object each : (Iterable<?>) ((GenericRecord) entity).get("mentions")) {
            GenericRecord mention = (GenericRecord) each;
            int start = (Integer) mention.get("start");
            int end = (Integer) mention.get("end");
            found
                .addObject()
                .put("text", mention.get("text").toString())
                .put("utf16", body.substring(start, Math.min(end, body.length())))
                .put("code_points", body.substring(body.offsetByCodePoints(0, start), body.offsetByCodePoints(0, end)));
          }
        }
      }
      default -> throw new IllegalArgumentException("unknown cmd " + cmd);
    }
    return answer;
  }

  private static String toJson(GenericRecord record) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    JsonEncoder encoder = EncoderFactory.get().jsonEncoder(record.getSchema(), buffer);
    new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
    encoder.flush();
    return buffer.toString(StandardCharsets.UTF_8);
  }
}
