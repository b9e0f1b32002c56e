// Command avroclient reads and writes newsflow's Kafka values with github.com/hamba/avro/v2, an Avro
// implementation independent of Java's, fastavro and Python's avro, so the tests can check that a Go
// consumer sees the same records newsflow wrote.
//
// Framed input and output: each message is a 4-byte big-endian length, then the message (a Kafka value).
//
//	avroclient fingerprint FILE.avsc...           one JSON line per schema: full name, canonical form, fingerprint
//	avroclient decode WRITER.avsc [READER.avsc]   frames on stdin -> one JSON line per frame: {"record": ...} or {"error": ...}
//	avroclient encode SCHEMA.avsc                 canonical JSON lines on stdin -> single-object frames on stdout
//	avroclient encode-as-is SCHEMA.avsc           the same with soe.Codec's own header (its fingerprint, below)
//
// hamba/avro v2.31.0 keeps "logicalType" in what it calls the canonical form, so its CRC-64-AVRO differs from
// the specification's (and Java's, and newsflow's) for every schema with a logical type: soe.Codec rejects
// the records of Java and newsflow, and writes records they cannot read. decode and encode therefore use
// the fingerprint hamba computes for the schema with its logical types removed (the README's workaround);
// fingerprint prints both.
//
// The canonical JSON is the one tests/avro_clients.py documents: ints and longs as exact integers,
// timestamp-millis as epoch milliseconds, doubles as 16 hex digits of their IEEE-754 bits ("NaN" for any
// NaN), bytes in base64, a non-null union branch as {"<branch name>": value} (Avro's JSON encoding).
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/soe"
)

func main() {
	if len(os.Args) < 3 {
		fail(errors.New("usage: avroclient fingerprint|decode|encode FILE.avsc..."))
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer out.Flush()
	var err error
	switch os.Args[1] {
	case "fingerprint":
		err = fingerprints(os.Args[2:], out)
	case "decode":
		err = decode(os.Args[2:], os.Stdin, out)
	case "encode":
		err = encode(os.Args[2], os.Stdin, out, true)
	case "encode-as-is":
		err = encode(os.Args[2], os.Stdin, out, false)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		out.Flush()
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "avroclient:", err)
	os.Exit(2)
}

// load parses one .avsc with a cache of its own: the current and released files define the same names.
func load(path string) (avro.Schema, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return avro.ParseBytesWithCache(text, "", &avro.SchemaCache{})
}

// specFingerprint is the fingerprint as the specification defines it: hamba's CRC-64-AVRO (little-endian)
// of the schema parsed without its logical types, which the Parsing Canonical Form strips.
func specFingerprint(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	plain, err := json.Marshal(stripLogical(doc))
	if err != nil {
		return nil, err
	}
	schema, err := avro.ParseBytesWithCache(plain, "", &avro.SchemaCache{})
	if err != nil {
		return nil, err
	}
	return soe.ComputeFingerprint(schema)
}

func stripLogical(v any) any {
	switch t := v.(type) {
	case map[string]any:
		got := make(map[string]any, len(t))
		for k, item := range t {
			if k != "logicalType" {
				got[k] = stripLogical(item)
			}
		}
		return got
	case []any:
		got := make([]any, len(t))
		for i, item := range t {
			got[i] = stripLogical(item)
		}
		return got
	}
	return v
}

func fingerprints(paths []string, out io.Writer) error {
	enc := json.NewEncoder(out)
	for _, path := range paths {
		schema, err := load(path)
		if err != nil {
			return err
		}
		fp, err := soe.ComputeFingerprint(schema) // CRC-64-AVRO of the canonical form, little-endian
		if err != nil {
			return err
		}
		spec, err := specFingerprint(path)
		if err != nil {
			return err
		}
		named, _ := schema.(avro.NamedSchema)
		line := map[string]string{
			"file": path, "full_name": named.FullName(), "canonical": schema.String(),
			"fingerprint": hex.EncodeToString(fp), "fingerprint_without_logical_types": hex.EncodeToString(spec),
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

func readFrame(in *bufio.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(in, size[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(in, msg); err != nil {
		return nil, fmt.Errorf("frame cut short: %w", err)
	}
	return msg, nil
}

func writeFrame(out io.Writer, msg []byte) error {
	var size [4]byte
	binary.BigEndian.PutUint32(size[:], uint32(len(msg)))
	if _, err := out.Write(size[:]); err != nil {
		return err
	}
	_, err := out.Write(msg)
	return err
}

// decode checks each frame's marker and fingerprint against the writer schema (soe.Codec.Decode does both)
// and decodes it, resolved to the reader schema when one is given.
func decode(paths []string, stdin io.Reader, out io.Writer) error {
	writer, err := load(paths[0])
	if err != nil {
		return err
	}
	fingerprint, err := specFingerprint(paths[0])
	if err != nil {
		return err
	}
	reader, readAs := writer, writer
	if len(paths) > 1 {
		if reader, err = load(paths[1]); err != nil {
			return err
		}
		if readAs, err = avro.NewSchemaCompatibility().Resolve(reader, writer); err != nil {
			return err
		}
	}
	in := bufio.NewReaderSize(stdin, 1<<16)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		msg, err := readFrame(in)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var line map[string]any
		if record, err := decodeOne(fingerprint, readAs, msg); err != nil {
			line = map[string]any{"error": err.Error()}
		} else if c, err := canon(reader, record); err != nil {
			line = map[string]any{"error": "canonical JSON: " + err.Error()}
		} else {
			line = map[string]any{"record": c}
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
}

func decodeOne(fingerprint []byte, readAs avro.Schema, msg []byte) (any, error) {
	got, datum, err := soe.ParseHeader(msg) // the C3 01 marker and the 8 fingerprint bytes
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got, fingerprint) {
		return nil, fmt.Errorf("bad fingerprint %x, expected %x", got, fingerprint)
	}
	var record any
	if err := avro.Unmarshal(readAs, datum, &record); err != nil {
		return nil, err
	}
	return record, nil
}

func deref(schema avro.Schema) avro.Schema {
	if ref, ok := schema.(*avro.RefSchema); ok {
		return ref.Schema()
	}
	return schema
}

func logical(schema avro.Schema) string {
	if l, ok := schema.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		return string(l.Logical().Type())
	}
	return ""
}

// branchName is the union branch's name in Avro's JSON encoding.
func branchName(schema avro.Schema) string {
	if named, ok := schema.(avro.NamedSchema); ok {
		return named.FullName()
	}
	return string(schema.Type())
}

func double(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	return fmt.Sprintf("%016x", math.Float64bits(f))
}

// canon turns what hamba decoded into the canonical JSON value, walking the schema.
func canon(schema avro.Schema, v any) (any, error) {
	schema = deref(schema)
	switch s := schema.(type) {
	case *avro.NullSchema:
		if v != nil {
			return nil, fmt.Errorf("null holds %T", v)
		}
		return nil, nil
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Long:
			if logical(s) == string(avro.TimestampMillis) {
				t, ok := v.(time.Time)
				if !ok {
					return nil, fmt.Errorf("timestamp-millis holds %T", v)
				}
				return t.UnixMilli(), nil
			}
			return v.(int64), nil
		case avro.Int:
			return int64(v.(int)), nil
		case avro.Double:
			return double(v.(float64)), nil
		case avro.Float:
			return double(float64(v.(float32))), nil
		case avro.Bytes:
			return base64.StdEncoding.EncodeToString(v.([]byte)), nil
		case avro.String, avro.Boolean:
			return v, nil
		}
	case *avro.EnumSchema:
		return v.(string), nil
	case *avro.ArraySchema:
		items, _ := v.([]any)
		got := make([]any, len(items))
		for i, item := range items {
			c, err := canon(s.Items(), item)
			if err != nil {
				return nil, err
			}
			got[i] = c
		}
		return got, nil
	case *avro.MapSchema:
		values, _ := v.(map[string]any)
		got := make(map[string]any, len(values))
		for k, item := range values {
			c, err := canon(s.Values(), item)
			if err != nil {
				return nil, err
			}
			got[k] = c
		}
		return got, nil
	case *avro.RecordSchema:
		fields, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s holds %T", s.FullName(), v)
		}
		got := make(map[string]any, len(s.Fields()))
		for _, f := range s.Fields() {
			value, there := fields[f.Name()]
			if !there {
				return nil, fmt.Errorf("record %s lacks field %s", s.FullName(), f.Name())
			}
			c, err := canon(f.Type(), value)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", s.FullName(), f.Name(), err)
			}
			got[f.Name()] = c
		}
		return got, nil
	case *avro.UnionSchema:
		if v == nil {
			return nil, nil
		}
		var branches []avro.Schema
		for _, branch := range s.Types() {
			if branch = deref(branch); branch.Type() != avro.Null {
				branches = append(branches, branch)
			}
		}
		wrapped, ok := v.(map[string]any)
		_, named := wrapped[branchName(branches[0])]
		if len(branches) == 1 && !(ok && len(wrapped) == 1 && named) {
			// hamba hands over a nullable union's primitive value unwrapped, a record as {full name: record}
			c, err := canon(branches[0], v)
			if err != nil {
				return nil, err
			}
			return map[string]any{branchName(branches[0]): c}, nil
		}
		if !ok || len(wrapped) != 1 {
			return nil, fmt.Errorf("union holds %T", v)
		}
		for key, value := range wrapped {
			for _, branch := range s.Types() {
				branch = deref(branch)
				name := branchName(branch)
				if key == name || strings.HasPrefix(key, name+".") {
					c, err := canon(branch, value)
					if err != nil {
						return nil, err
					}
					return map[string]any{name: c}, nil
				}
			}
			return nil, fmt.Errorf("union has no branch %q", key)
		}
	}
	return nil, fmt.Errorf("schema type %s not handled", schema.Type())
}

// native turns a canonical JSON value into what hamba encodes for the schema.
func native(schema avro.Schema, v any) (any, error) {
	schema = deref(schema)
	switch s := schema.(type) {
	case *avro.NullSchema:
		return nil, nil
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Long:
			n, err := integer(v)
			if err != nil {
				return nil, err
			}
			if logical(s) == string(avro.TimestampMillis) {
				return time.UnixMilli(n).UTC(), nil
			}
			return n, nil
		case avro.Int:
			n, err := integer(v)
			return int(n), err
		case avro.Double:
			return parseDouble(v.(string))
		case avro.Bytes:
			return base64.StdEncoding.DecodeString(v.(string))
		case avro.String, avro.Boolean:
			return v, nil
		}
	case *avro.EnumSchema:
		return v, nil
	case *avro.ArraySchema:
		items := v.([]any)
		got := make([]any, len(items))
		for i, item := range items {
			n, err := native(s.Items(), item)
			if err != nil {
				return nil, err
			}
			got[i] = n
		}
		return got, nil
	case *avro.MapSchema:
		got := map[string]any{}
		for k, item := range v.(map[string]any) {
			n, err := native(s.Values(), item)
			if err != nil {
				return nil, err
			}
			got[k] = n
		}
		return got, nil
	case *avro.RecordSchema:
		fields := v.(map[string]any)
		got := make(map[string]any, len(fields))
		for _, f := range s.Fields() {
			n, err := native(f.Type(), fields[f.Name()])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name(), err)
			}
			got[f.Name()] = n
		}
		return got, nil
	case *avro.UnionSchema:
		if v == nil {
			return nil, nil
		}
		for key, value := range v.(map[string]any) {
			for _, branch := range s.Types() {
				branch = deref(branch)
				if branchName(branch) == key {
					n, err := native(branch, value)
					if l := logical(branch); l != "" {
						key += "." + l // hamba's name of a logical type's branch
					}
					return map[string]any{key: n}, err
				}
			}
			return nil, fmt.Errorf("union has no branch %q", key)
		}
	}
	return nil, fmt.Errorf("schema type %s not handled", schema.Type())
}

// integer reads a JSON number or a decimal string (writers' input carries longs as strings, so that
// every language reads them exactly).
func integer(v any) (int64, error) {
	switch t := v.(type) {
	case json.Number:
		return t.Int64()
	case string:
		return strconv.ParseInt(t, 10, 64)
	}
	return 0, fmt.Errorf("not an integer: %v", v)
}

func parseDouble(text string) (float64, error) {
	if text == "NaN" {
		return math.NaN(), nil
	}
	bits, err := hex.DecodeString(text)
	if err != nil || len(bits) != 8 {
		return 0, fmt.Errorf("not a double: %q", text)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(bits)), nil
}

// encode writes each canonical JSON line as a single-object encoded record with soe.Codec, its header
// replaced by one with the specification's fingerprint when spec is set.
func encode(path string, stdin io.Reader, out io.Writer, spec bool) error {
	schema, err := load(path)
	if err != nil {
		return err
	}
	codec, err := soe.NewCodec(schema)
	if err != nil {
		return err
	}
	header, _ := soe.BuildHeader(schema)
	if spec {
		fingerprint, err := specFingerprint(path)
		if err != nil {
			return err
		}
		if header, err = soe.BuildHeaderForFingerprint(fingerprint); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(stdin)
	dec.UseNumber()
	for {
		var line any
		if err := dec.Decode(&line); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		record, err := native(schema, line)
		if err != nil {
			return err
		}
		msg, err := codec.Encode(record) // the library's own single-object encoding
		if err != nil {
			return err
		}
		msg = append(bytes.Clone(header), msg[len(header):]...)
		if err := writeFrame(out, msg); err != nil {
			return err
		}
	}
}
