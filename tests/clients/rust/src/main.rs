//! avroclient reads and writes newsflow's Kafka values and Avro container files with `apache-avro`, Apache
//! Avro's own Rust implementation, independent of Java's, fastavro and Python's avro, so the tests can
//! check that a Rust consumer sees the same records newsflow wrote.
//!
//! Framed input and output: each message is a 4-byte big-endian length, then the message (a Kafka value).
//!
//!   avroclient fingerprint FILE.avsc...           one JSON line per schema: full name, canonical form, fingerprint
//!   avroclient decode WRITER.avsc [READER.avsc]   frames on stdin -> one JSON line per frame: {"record": ...} or {"error": ...}
//!   avroclient read-file FILE.avro                one JSON line per record of a container file, {"error": ...} last if one fails
//!   avroclient encode SCHEMA.avsc                 canonical JSON lines on stdin -> single-object frames on stdout
//!   avroclient encode-as-is SCHEMA.avsc           the same with the library's own header (its fingerprint, below)
//!
//! apache-avro 0.22.0 keeps `{"type":"long"}` for a `timestamp-millis` in its Parsing Canonical Form (it strips
//! "logicalType" but does not then reduce the object to "long"), so its Rabin fingerprint differs from the
//! specification's (and Java's, and newsflow's) for every schema with a logical type: its
//! `GenericSingleObjectReader` rejects the records of Java and newsflow, and `GenericSingleObjectWriter` writes
//! records they cannot read. decode and encode therefore use the library's Rabin fingerprint of the schema
//! with its logical types removed (the README's workaround); fingerprint prints both.
//!
//! The canonical JSON is the one tests/avro_clients.py documents: ints and longs as exact integers,
//! timestamp-millis as epoch milliseconds, doubles as 16 hex digits of their IEEE-754 bits ("NaN" for any
//! NaN), bytes in base64, a non-null union branch as {"<branch name>": value} (Avro's JSON encoding).

use std::collections::HashMap;
use std::error::Error;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use apache_avro::headers::{HeaderBuilder, RabinFingerprintHeader};
use apache_avro::rabin::Rabin;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, ResolvedSchema};
use apache_avro::types::Value;
use apache_avro::{GenericSingleObjectWriter, Reader, Schema};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value as Json, json};

type Result<T> = std::result::Result<T, Box<dyn Error>>;
const MAGIC: [u8; 2] = [0xC3, 0x01];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let done = match args.first().map(String::as_str) {
        Some("fingerprint") if args.len() > 1 => fingerprints(&args[1..], &mut out),
        Some("decode") if args.len() > 1 => decode(&args[1], args.get(2), &mut out),
        Some("read-file") if args.len() == 2 => read_file(&args[1], &mut out),
        Some("encode") if args.len() == 2 => encode(&args[1], &mut out, true),
        Some("encode-as-is") if args.len() == 2 => encode(&args[1], &mut out, false),
        _ => {
            Err("usage: avroclient fingerprint|decode|read-file|encode|encode-as-is FILE...".into())
        }
    };
    let flushed = out.flush();
    if let Err(err) = done {
        eprintln!("avroclient: {err}");
        std::process::exit(2);
    }
    if let Err(err) = flushed {
        eprintln!("avroclient: {err}");
        std::process::exit(2);
    }
}

fn load(path: &str) -> Result<Schema> {
    Ok(Schema::parse_str(&std::fs::read_to_string(path)?)?)
}

/// The single-object header the specification defines: the library's Rabin fingerprint of the schema parsed
/// without its logical types, whose canonical form is then the specification's.
fn spec_header(path: &str) -> Result<Vec<u8>> {
    let doc: Json = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let plain = Schema::parse(&strip_logical(doc))?;
    Ok(RabinFingerprintHeader::from_schema(&plain).build_header())
}

fn strip_logical(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .filter(|(k, _)| k != "logicalType")
                .map(|(k, v)| (k, strip_logical(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(strip_logical).collect()),
        other => other,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn full_name(schema: &Schema) -> String {
    schema.name().map(|n| n.fullname(None)).unwrap_or_default()
}

fn fingerprints(paths: &[String], out: &mut impl Write) -> Result<()> {
    for path in paths {
        let schema = load(path)?;
        let line = json!({
            "file": path,
            "full_name": full_name(&schema),
            "canonical": schema.canonical_form(),
            "fingerprint": hex(&schema.fingerprint::<Rabin>().bytes), // 8 bytes, little-endian
            "fingerprint_without_logical_types": hex(&spec_header(path)?[2..]),
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn read_frame(input: &mut impl Read) -> Result<Option<Vec<u8>>> {
    let mut size = [0u8; 4];
    match input.read_exact(&mut size) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(err) => return Err(err.into()),
    }
    let mut msg = vec![0u8; u32::from_be_bytes(size) as usize];
    input
        .read_exact(&mut msg)
        .map_err(|e| format!("frame cut short: {e}"))?;
    Ok(Some(msg))
}

fn write_frame(out: &mut impl Write, msg: &[u8]) -> Result<()> {
    out.write_all(&u32::try_from(msg.len())?.to_be_bytes())?;
    out.write_all(msg)?;
    Ok(())
}

/// Checks each frame's marker and fingerprint against the writer schema's and decodes the datum with
/// `GenericDatumReader`, resolved to the reader schema when one is given.
fn decode(writer_path: &str, reader_path: Option<&String>, out: &mut impl Write) -> Result<()> {
    let writer = load(writer_path)?;
    let header = spec_header(writer_path)?;
    let reader = reader_path.map(|p| load(p)).transpose()?;
    let read_as = reader.as_ref().unwrap_or(&writer);
    let names = Names::of(read_as)?;
    let datum = GenericDatumReader::builder(&writer)
        .maybe_reader_schema(reader.as_ref())
        .build()?;
    let mut input = BufReader::with_capacity(1 << 16, io::stdin().lock());
    while let Some(msg) = read_frame(&mut input)? {
        let line = match decode_one(&header, &datum, &msg) {
            Err(err) => json!({ "error": err.to_string() }),
            Ok(value) => match names.canon(read_as, &value) {
                Ok(record) => json!({ "record": record }),
                Err(err) => json!({ "error": format!("canonical JSON: {err}") }),
            },
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn decode_one(header: &[u8], datum: &GenericDatumReader, msg: &[u8]) -> Result<Value> {
    if msg.len() < header.len() || msg[..2] != MAGIC {
        return Err("not single-object encoding (C3 01 and an 8-byte fingerprint)".into());
    }
    if msg[..header.len()] != *header {
        return Err(format!(
            "bad fingerprint {}, expected {}",
            hex(&msg[2..10]),
            hex(&header[2..])
        )
        .into());
    }
    Ok(datum.read_value(&mut &msg[header.len()..])?)
}

/// Every record of a container file (its own writer schema, any codec built in), as canonical JSON lines.
fn read_file(path: &str, out: &mut impl Write) -> Result<()> {
    let reader = Reader::new(BufReader::new(std::fs::File::open(path)?))?;
    let schema = reader.writer_schema().clone();
    let names = Names::of(&schema)?;
    for value in reader {
        let line = match value
            .map_err(Box::<dyn Error>::from)
            .and_then(|v| names.canon(&schema, &v))
        {
            Ok(record) => json!({ "record": record }),
            Err(err) => {
                writeln!(out, "{}", json!({ "error": err.to_string() }))?;
                break;
            }
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Writes each canonical JSON line as a single-object encoded record with `GenericSingleObjectWriter`, with
/// the specification's header when `spec` is set, else the library's own.
fn encode(path: &str, out: &mut impl Write, spec: bool) -> Result<()> {
    let schema = load(path)?;
    let names = Names::of(&schema)?;
    let mut writer = if spec {
        GenericSingleObjectWriter::new_with_capacity_and_header_builder(
            &schema,
            1024,
            &SpecHeader(spec_header(path)?),
        )?
    } else {
        GenericSingleObjectWriter::new_with_capacity(&schema, 1024)?
    };
    for line in io::stdin().lock().split(b'\n') {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let value = names.native(&schema, &serde_json::from_slice(&line)?)?;
        let mut msg = Vec::new();
        writer.write_value(value, &mut msg)?; // the library's own single-object encoding
        write_frame(out, &msg)?;
    }
    Ok(())
}

struct SpecHeader(Vec<u8>);

impl HeaderBuilder for SpecHeader {
    fn build_header(&self) -> Vec<u8> {
        self.0.clone()
    }
}

/// The named types of a schema, to follow references while walking a value along it.
struct Names(HashMap<Name, Schema>);

impl Names {
    fn of(schema: &Schema) -> Result<Self> {
        let resolved = ResolvedSchema::try_from(schema)?;
        Ok(Names(
            resolved
                .get_names()
                .iter()
                .map(|(n, s)| (n.clone(), (*s).clone()))
                .collect(),
        ))
    }

    fn deref<'a>(&'a self, schema: &'a Schema) -> Result<&'a Schema> {
        match schema {
            Schema::Ref { name } => Ok(self
                .0
                .get(name)
                .ok_or_else(|| format!("unknown type {name:?}"))?),
            other => Ok(other),
        }
    }

    /// The branch's name in Avro's JSON encoding: a named type's full name, else its (underlying) type.
    fn branch_name(&self, schema: &Schema) -> Result<String> {
        let schema = self.deref(schema)?;
        if let Some(name) = schema.name() {
            return Ok(name.fullname(None));
        }
        Ok(match schema {
            Schema::TimestampMillis => "long".to_owned(),
            other => serde_json::to_value(other)?
                .as_str()
                .ok_or_else(|| format!("no branch name for {other:?}"))?
                .to_owned(),
        })
    }

    /// What the library decoded, as the canonical JSON value, walking the schema.
    fn canon(&self, schema: &Schema, value: &Value) -> Result<Json> {
        let schema = self.deref(schema)?;
        Ok(match (schema, value) {
            (Schema::Null, Value::Null) => Json::Null,
            (Schema::Boolean, Value::Boolean(b)) => json!(b),
            (Schema::Int, Value::Int(n)) => json!(n),
            (Schema::Long, Value::Long(n))
            | (Schema::TimestampMillis, Value::TimestampMillis(n)) => json!(n),
            (Schema::Double, Value::Double(f)) => json!(double(*f)),
            (Schema::Float, Value::Float(f)) => json!(double(f64::from(*f))),
            (Schema::Bytes, Value::Bytes(b)) => json!(BASE64.encode(b)),
            (Schema::String, Value::String(s)) | (Schema::Enum(_), Value::Enum(_, s)) => json!(s),
            (Schema::Array(a), Value::Array(items)) => Json::Array(
                items
                    .iter()
                    .map(|v| self.canon(&a.items, v))
                    .collect::<Result<_>>()?,
            ),
            (Schema::Map(m), Value::Map(entries)) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.canon(&m.types, v)?)))
                    .collect::<Result<_>>()?,
            ),
            (Schema::Record(r), Value::Record(fields)) => {
                let got: HashMap<&str, &Value> =
                    fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
                let mut map = Map::new();
                for f in &r.fields {
                    let v = got
                        .get(f.name.as_str())
                        .ok_or_else(|| format!("record lacks field {}", f.name))?;
                    let c = self
                        .canon(&f.schema, v)
                        .map_err(|e| format!("{}: {e}", f.name))?;
                    map.insert(f.name.clone(), c);
                }
                Json::Object(map)
            }
            (Schema::Union(u), Value::Union(i, v)) => {
                let branch = self.deref(u.get_variant(*i as usize)?)?;
                if matches!(branch, Schema::Null) {
                    Json::Null
                } else {
                    json!({ self.branch_name(branch)?: self.canon(branch, v)? })
                }
            }
            (s, v) => return Err(format!("value {v:?} for schema {s:?}").into()),
        })
    }

    /// A canonical JSON value (longs as decimal strings or numbers) as the library's value for the schema.
    fn native(&self, schema: &Schema, value: &Json) -> Result<Value> {
        let schema = self.deref(schema)?;
        Ok(match schema {
            Schema::Null => Value::Null,
            Schema::Boolean => Value::Boolean(value.as_bool().ok_or("not a boolean")?),
            Schema::Int => Value::Int(i32::try_from(integer(value)?)?),
            Schema::Long => Value::Long(integer(value)?),
            Schema::TimestampMillis => Value::TimestampMillis(integer(value)?),
            Schema::Double => Value::Double(parse_double(value)?),
            Schema::Bytes => Value::Bytes(BASE64.decode(value.as_str().ok_or("not base64")?)?),
            Schema::String => Value::String(value.as_str().ok_or("not a string")?.to_owned()),
            Schema::Array(a) => Value::Array(
                value
                    .as_array()
                    .ok_or("not an array")?
                    .iter()
                    .map(|v| self.native(&a.items, v))
                    .collect::<Result<_>>()?,
            ),
            Schema::Map(m) => Value::Map(
                value
                    .as_object()
                    .ok_or("not a map")?
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.native(&m.types, v)?)))
                    .collect::<Result<_>>()?,
            ),
            Schema::Record(r) => {
                let fields = value.as_object().ok_or("not a record")?;
                Value::Record(
                    r.fields
                        .iter()
                        .map(|f| {
                            Ok((
                                f.name.clone(),
                                self.native(&f.schema, fields.get(&f.name).unwrap_or(&Json::Null))?,
                            ))
                        })
                        .collect::<Result<_>>()?,
                )
            }
            Schema::Union(u) => {
                let (want, inner) = match value.as_object() {
                    None if value.is_null() => ("null".to_owned(), &Json::Null),
                    Some(one) if one.len() == 1 => {
                        one.iter().next().map(|(k, v)| (k.clone(), v)).unwrap()
                    }
                    _ => return Err(format!("not a union value: {value}").into()),
                };
                for (i, branch) in u.variants().iter().enumerate() {
                    if self.branch_name(branch)? == want {
                        return Ok(Value::Union(
                            u32::try_from(i)?,
                            Box::new(self.native(branch, inner)?),
                        ));
                    }
                }
                return Err(format!("union has no branch {want:?}").into());
            }
            other => return Err(format!("schema {other:?} not handled").into()),
        })
    }
}

/// A JSON number or a decimal string (writers' input carries longs as strings, read exactly).
fn integer(value: &Json) -> Result<i64> {
    match value {
        Json::Number(n) => Ok(n.as_i64().ok_or("not a 64-bit integer")?),
        Json::String(s) => Ok(s.parse()?),
        other => Err(format!("not an integer: {other}").into()),
    }
}

fn double(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else {
        format!("{:016x}", f.to_bits())
    }
}

fn parse_double(value: &Json) -> Result<f64> {
    match value.as_str() {
        Some("NaN") => Ok(f64::NAN),
        Some(text) if text.len() == 16 => Ok(f64::from_bits(u64::from_str_radix(text, 16)?)),
        _ => Err(format!("not a double: {value}").into()),
    }
}
