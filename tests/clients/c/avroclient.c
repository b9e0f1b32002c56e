/*
 * avroclient reads newsflow's Kafka values and Avro container files with Apache Avro C (Debian's libavro-dev
 * 1.11.1), an implementation independent of Java's, fastavro and Python's avro, so the tests can check that
 * a C consumer sees the same records newsflow wrote.
 *
 * Framed input: each message is a 4-byte big-endian length, then the message (a Kafka value).
 *
 *   avroclient fingerprint FILE.avsc...           one JSON line per schema: full name, canonical form, fingerprint
 *   avroclient decode WRITER.avsc [READER.avsc]   frames on stdin -> one JSON line per frame: {"record": ...} or {"error": ...}
 *   avroclient read-file FILE.avro                one JSON line per record of a container file, {"error": ...} last if one fails
 *   avroclient to-json FILE.avro                  the library's own avro_value_to_json of each record, or {"error": ...}
 *
 * Avro C 1.11.1 has no single-object encoding, no Parsing Canonical Form and no CRC-64-AVRO (its
 * avro_schema_to_json is not canonical: short names, a separate namespace, {"type":"string"}). So the
 * canonical form is written here from the library's parsed schema (canonical_form), its CRC-64-AVRO taken
 * with the specification's 20 lines (crc64_avro), and the 10-byte header checked and skipped before
 * avro_value_read decodes the datum, through avro_resolved_writer when a reader schema is given.
 *
 * The canonical JSON is the one tests/avro_clients.py documents: ints and longs as exact integers,
 * timestamp-millis as epoch milliseconds, doubles as 16 hex digits of their IEEE-754 bits ("NaN" for any
 * NaN), bytes in base64, a non-null union branch as {"<branch name>": value} (Avro's JSON encoding).
 */
#include <avro.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing byte buffer: the canonical form, one output line, a message read from stdin. */
typedef struct {
	char *data;
	size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data) {
			perror("avroclient");
			exit(2);
		}
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void puts_(buf_t *b, const char *text) { put(b, text, strlen(text)); }

static void printf_(buf_t *b, const char *format, ...)
{
	char small[64];
	va_list args;
	va_start(args, format);
	int n = vsnprintf(small, sizeof small, format, args);
	va_end(args);
	put(b, small, (size_t)n);
}

static void fail(const char *what, const char *why)
{
	fprintf(stderr, "avroclient: %s: %s\n", what, why);
	exit(2);
}

/* A JSON string: quotes, backslashes and control characters escaped, all other bytes (UTF-8) as they are. */
static void json_string(buf_t *b, const char *s, size_t len)
{
	puts_(b, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			put(b, esc, 2);
		} else if (c < 0x20) {
			printf_(b, "\\u%04x", c);
		} else {
			put(b, &s[i], 1);
		}
	}
	puts_(b, "\"");
}

static void base64(buf_t *b, const unsigned char *data, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	puts_(b, "\"");
	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0) |
			     (i + 2 < len ? data[i + 2] : 0);
		char quad[4] = {abc[n >> 18 & 63], abc[n >> 12 & 63], i + 1 < len ? abc[n >> 6 & 63] : '=',
				i + 2 < len ? abc[n & 63] : '='};
		put(b, quad, 4);
	}
	puts_(b, "\"");
}

static void full_name(buf_t *b, avro_schema_t schema)
{
	const char *space = avro_schema_namespace(schema);
	if (space && *space) {
		puts_(b, space);
		puts_(b, ".");
	}
	puts_(b, avro_schema_name(schema));
}

/* The Parsing Canonical Form of the specification, from the library's parsed schema. */
static void canonical_form(buf_t *b, avro_schema_t s)
{
	switch (avro_typeof(s)) {
	case AVRO_LINK:
		puts_(b, "\"");
		full_name(b, avro_schema_link_target(s));
		puts_(b, "\"");
		return;
	case AVRO_RECORD:
		puts_(b, "{\"name\":\"");
		full_name(b, s);
		puts_(b, "\",\"type\":\"record\",\"fields\":[");
		for (size_t i = 0; i < avro_schema_record_size(s); i++) {
			puts_(b, i ? ",{\"name\":" : "{\"name\":");
			const char *name = avro_schema_record_field_name(s, (int)i);
			json_string(b, name, strlen(name));
			puts_(b, ",\"type\":");
			canonical_form(b, avro_schema_record_field_get_by_index(s, (int)i));
			puts_(b, "}");
		}
		puts_(b, "]}");
		return;
	case AVRO_ENUM:
		puts_(b, "{\"name\":\"");
		full_name(b, s);
		puts_(b, "\",\"type\":\"enum\",\"symbols\":[");
		for (int i = 0; i < avro_schema_enum_number_of_symbols(s); i++) {
			const char *symbol = avro_schema_enum_get(s, i);
			puts_(b, i ? "," : "");
			json_string(b, symbol, strlen(symbol));
		}
		puts_(b, "]}");
		return;
	case AVRO_FIXED:
		puts_(b, "{\"name\":\"");
		full_name(b, s);
		printf_(b, "\",\"type\":\"fixed\",\"size\":%" PRId64 "}", avro_schema_fixed_size(s));
		return;
	case AVRO_ARRAY:
		puts_(b, "{\"type\":\"array\",\"items\":");
		canonical_form(b, avro_schema_array_items(s));
		puts_(b, "}");
		return;
	case AVRO_MAP:
		puts_(b, "{\"type\":\"map\",\"values\":");
		canonical_form(b, avro_schema_map_values(s));
		puts_(b, "}");
		return;
	case AVRO_UNION:
		puts_(b, "[");
		for (size_t i = 0; i < avro_schema_union_size(s); i++) {
			puts_(b, i ? "," : "");
			canonical_form(b, avro_schema_union_branch(s, (int)i));
		}
		puts_(b, "]");
		return;
	default: /* a primitive: its name */
		puts_(b, "\"");
		puts_(b, avro_schema_type_name(s));
		puts_(b, "\"");
	}
}

/* CRC-64-AVRO, the specification's fingerprint, as the 8 little-endian bytes single-object encoding carries. */
static void crc64_avro(const char *data, size_t len, unsigned char out[8])
{
	static const uint64_t empty = 0xc15d213aa4d7a795ULL;
	static uint64_t table[256];
	if (!table[1]) {
		for (int i = 0; i < 256; i++) {
			uint64_t fp = (uint64_t)i;
			for (int j = 0; j < 8; j++)
				fp = (fp >> 1) ^ (empty & -(fp & 1));
			table[i] = fp;
		}
	}
	uint64_t fp = empty;
	for (size_t i = 0; i < len; i++)
		fp = (fp >> 8) ^ table[(fp ^ (unsigned char)data[i]) & 0xff];
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(fp >> (8 * i));
}

static avro_schema_t load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail(path, strerror(errno));
	buf_t text = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		put(&text, chunk, n);
	fclose(f);
	avro_schema_t schema;
	if (avro_schema_from_json_length(text.data, text.len, &schema))
		fail(path, avro_strerror());
	free(text.data);
	return schema;
}

static void hex(buf_t *b, const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf_(b, "%02x", data[i]);
}

static int fingerprints(int count, char **paths)
{
	for (int i = 0; i < count; i++) {
		avro_schema_t schema = load(paths[i]);
		buf_t form = {0}, line = {0}, name = {0};
		unsigned char fp[8];
		canonical_form(&form, schema);
		crc64_avro(form.data, form.len, fp);
		full_name(&name, schema);
		puts_(&line, "{\"file\":");
		json_string(&line, paths[i], strlen(paths[i]));
		puts_(&line, ",\"full_name\":");
		json_string(&line, name.data, name.len);
		puts_(&line, ",\"canonical\":");
		json_string(&line, form.data, form.len);
		puts_(&line, ",\"fingerprint\":\"");
		hex(&line, fp, 8);
		puts_(&line, "\"}\n");
		fwrite(line.data, 1, line.len, stdout);
		free(form.data), free(line.data), free(name.data);
		avro_schema_decref(schema);
	}
	return 0;
}

static void branch_name(buf_t *b, avro_schema_t s)
{
	if (avro_typeof(s) == AVRO_LINK)
		s = avro_schema_link_target(s);
	if (is_avro_named_type(s))
		full_name(b, s);
	else
		puts_(b, avro_schema_type_name(s));
}

/* A decoded value as canonical JSON; non-zero (with avro_strerror) when the library fails. */
static int canon(buf_t *b, avro_value_t *v)
{
	avro_schema_t s = avro_value_get_schema(v);
	switch (avro_value_get_type(v)) {
	case AVRO_NULL:
		puts_(b, "null");
		return 0;
	case AVRO_BOOLEAN: {
		int x;
		if (avro_value_get_boolean(v, &x))
			return 1;
		puts_(b, x ? "true" : "false");
		return 0;
	}
	case AVRO_INT32: {
		int32_t x;
		if (avro_value_get_int(v, &x))
			return 1;
		printf_(b, "%" PRId32, x);
		return 0;
	}
	case AVRO_INT64: {
		int64_t x;
		if (avro_value_get_long(v, &x))
			return 1;
		printf_(b, "%" PRId64, x);
		return 0;
	}
	case AVRO_FLOAT:
	case AVRO_DOUBLE: {
		double x;
		float f;
		if (avro_value_get_type(v) == AVRO_FLOAT ? avro_value_get_float(v, &f) : avro_value_get_double(v, &x))
			return 1;
		if (avro_value_get_type(v) == AVRO_FLOAT)
			x = f;
		uint64_t bits;
		memcpy(&bits, &x, 8);
		if (isnan(x))
			puts_(b, "\"NaN\"");
		else
			printf_(b, "\"%016" PRIx64 "\"", bits);
		return 0;
	}
	case AVRO_BYTES: {
		const void *data;
		size_t size;
		if (avro_value_get_bytes(v, &data, &size))
			return 1;
		base64(b, data, size);
		return 0;
	}
	case AVRO_STRING: {
		const char *data;
		size_t size; /* counts the library's terminating NUL */
		if (avro_value_get_string(v, &data, &size))
			return 1;
		json_string(b, data, size ? size - 1 : 0);
		return 0;
	}
	case AVRO_ENUM: {
		int x;
		if (avro_value_get_enum(v, &x))
			return 1;
		const char *symbol = avro_schema_enum_get(s, x);
		json_string(b, symbol, strlen(symbol));
		return 0;
	}
	case AVRO_ARRAY:
	case AVRO_MAP:
	case AVRO_RECORD: {
		int array = avro_value_get_type(v) == AVRO_ARRAY;
		size_t size;
		if (avro_value_get_size(v, &size))
			return 1;
		puts_(b, array ? "[" : "{");
		for (size_t i = 0; i < size; i++) {
			avro_value_t child;
			const char *name = NULL;
			if (avro_value_get_by_index(v, i, &child, &name))
				return 1;
			puts_(b, i ? "," : "");
			if (!array) {
				if (avro_value_get_type(v) == AVRO_RECORD)
					name = avro_schema_record_field_name(s, (int)i);
				json_string(b, name, strlen(name));
				puts_(b, ":");
			}
			if (canon(b, &child))
				return 1;
		}
		puts_(b, array ? "]" : "}");
		return 0;
	}
	case AVRO_UNION: {
		int which;
		avro_value_t branch;
		if (avro_value_get_discriminant(v, &which) || avro_value_get_current_branch(v, &branch))
			return 1;
		avro_schema_t branch_schema = avro_schema_union_branch(s, which);
		if (is_avro_null(branch_schema)) {
			puts_(b, "null");
			return 0;
		}
		puts_(b, "{\"");
		branch_name(b, branch_schema);
		puts_(b, "\":");
		if (canon(b, &branch))
			return 1;
		puts_(b, "}");
		return 0;
	}
	default:
		avro_set_error("schema type %s not handled", avro_schema_type_name(s));
		return 1;
	}
}

static void error_line(const char *why)
{
	buf_t line = {0};
	puts_(&line, "{\"error\":");
	json_string(&line, why, strlen(why));
	puts_(&line, "}\n");
	fwrite(line.data, 1, line.len, stdout);
	free(line.data);
}

static void record_line(avro_value_t *value)
{
	buf_t line = {0};
	puts_(&line, "{\"record\":");
	if (canon(&line, value)) {
		char why[512];
		snprintf(why, sizeof why, "canonical JSON: %s", avro_strerror());
		error_line(why);
	} else {
		puts_(&line, "}\n");
		fwrite(line.data, 1, line.len, stdout);
	}
	free(line.data);
}

static int read_frame(buf_t *msg)
{
	unsigned char size[4];
	size_t got = fread(size, 1, 4, stdin);
	if (got == 0)
		return 0;
	if (got < 4)
		fail("stdin", "frame length cut short");
	size_t len = (size_t)size[0] << 24 | (size_t)size[1] << 16 | (size_t)size[2] << 8 | size[3];
	msg->len = 0;
	if (msg->cap < len + 1) {
		msg->cap = len + 1;
		msg->data = realloc(msg->data, msg->cap);
		if (!msg->data)
			fail("stdin", "out of memory");
	}
	if (fread(msg->data, 1, len, stdin) != len)
		fail("stdin", "frame cut short");
	msg->len = len;
	return 1;
}

/* Checks each frame's marker and fingerprint, then decodes the datum after the 10-byte header with
 * avro_value_read: into the writer schema's value, or through avro_resolved_writer into the reader's. */
static int decode(const char *writer_path, const char *reader_path)
{
	avro_schema_t writer = load(writer_path);
	avro_schema_t reader = reader_path ? load(reader_path) : writer;
	buf_t form = {0};
	unsigned char header[10] = {0xc3, 0x01};
	canonical_form(&form, writer);
	crc64_avro(form.data, form.len, header + 2);
	avro_value_iface_t *reader_class = avro_generic_class_from_schema(reader);
	avro_value_iface_t *resolver = reader_path ? avro_resolved_writer_new(writer, reader) : NULL;
	if (!reader_class || (reader_path && !resolver))
		fail("schema", avro_strerror());
	avro_value_t value, resolved;
	avro_generic_value_new(reader_class, &value);
	if (resolver) {
		avro_resolved_writer_new_value(resolver, &resolved);
		avro_resolved_writer_set_dest(&resolved, &value);
	}
	buf_t msg = {0};
	while (read_frame(&msg)) {
		if (msg.len < 10 || memcmp(msg.data, header, 2) != 0) {
			error_line("not single-object encoding (C3 01 and an 8-byte fingerprint)");
			continue;
		}
		if (memcmp(msg.data, header, 10) != 0) {
			buf_t why = {0};
			puts_(&why, "bad fingerprint ");
			hex(&why, (unsigned char *)msg.data + 2, 8);
			puts_(&why, ", expected ");
			hex(&why, header + 2, 8);
			error_line(why.data);
			free(why.data);
			continue;
		}
		avro_reader_t in = avro_reader_memory(msg.data + 10, (int64_t)msg.len - 10);
		avro_value_reset(&value);
		if (avro_value_read(in, resolver ? &resolved : &value))
			error_line(avro_strerror());
		else
			record_line(&value);
		avro_reader_free(in);
	}
	return 0;
}

/* Every record of a container file (its own writer schema, any codec the library was built with). */
static int read_file(const char *path, int library_json)
{
	avro_file_reader_t file;
	if (avro_file_reader(path, &file))
		fail(path, avro_strerror());
	avro_schema_t schema = avro_file_reader_get_writer_schema(file);
	avro_value_iface_t *class = avro_generic_class_from_schema(schema);
	avro_value_t value;
	avro_generic_value_new(class, &value);
	int done;
	while ((done = avro_file_reader_read_value(file, &value)) == 0) {
		if (!library_json) {
			record_line(&value);
		} else {
			char *json = NULL;
			if (avro_value_to_json(&value, 1, &json)) {
				error_line(avro_strerror());
			} else {
				fputs(json, stdout);
				fputs("\n", stdout);
				free(json);
			}
		}
		avro_value_reset(&value);
	}
	if (done != EOF)
		error_line(avro_strerror());
	avro_file_reader_close(file);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "fingerprint") == 0)
		return fingerprints(argc - 2, argv + 2);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "decode") == 0)
		return decode(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 3 && strcmp(argv[1], "read-file") == 0)
		return read_file(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "to-json") == 0)
		return read_file(argv[2], 1);
	fail("usage", "avroclient fingerprint|decode|read-file|to-json FILE...");
	return 2;
}
