#!/usr/bin/env node
// Reads and writes newsflow's Kafka values with avsc, the most used Avro implementation for JavaScript,
// independent of Java's, fastavro and Python's avro, so the tests can check what a Node consumer sees.
//
// Frames on stdin/stdout: a 4-byte big-endian length, then the message (a Kafka value).
//   node avroclient.js fingerprint FILE.avsc...           one JSON line per schema
//   node avroclient.js decode WRITER.avsc [READER.avsc]   frames -> {"record": ...} or {"error": ...} lines
//   node avroclient.js encode SCHEMA.avsc                 canonical JSON lines -> single-object frames
//
// avsc 5.7 has no single-object encoding and no CRC-64-AVRO (its fingerprint() is MD5 or another node
// hash), so the header is built here: CRC-64-AVRO, as the specification gives it, of avsc's Parsing
// Canonical Form (`type.schema()`), little-endian. Longs are read as BigInt (avsc's documented
// `LongType.__with`): by default avsc refuses longs beyond 2^53 ("potential precision loss").
'use strict';

const fs = require('fs');
const avro = require('avsc');

const MAGIC = Buffer.from([0xc3, 0x01]);

const bigLong = avro.types.LongType.__with({
  fromBuffer: (buf) => buf.readBigInt64LE(),
  toBuffer: (n) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n) => typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n,
  compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
});

function load(path) {
  // wrapUnions: a union value is {branch name: value}, so the branch is explicit, as in Avro's JSON encoding
  return avro.Type.forSchema(JSON.parse(fs.readFileSync(path, 'utf8')), {
    registry: { long: bigLong },
    wrapUnions: true,
  });
}

const CRC64_EMPTY = 0xc15d213aa4d7a795n;
const TABLE = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (CRC64_EMPTY & -(fp & 1n));
  return fp;
});

function fingerprint(type) {
  let fp = CRC64_EMPTY;
  for (const byte of Buffer.from(JSON.stringify(type.schema()), 'utf8')) {
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)];
  }
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(fp);
  return buf;
}

function double(x) {
  if (Number.isNaN(x)) return 'NaN';
  const buf = Buffer.alloc(8);
  buf.writeDoubleBE(x);
  return buf.toString('hex');
}

// The canonical JSON value (tests/avro_clients.py), as text: longs must stay exact.
function canon(type, v) {
  switch (type.typeName) {
    case 'null':
      return 'null';
    case 'boolean':
    case 'string':
    case 'enum':
      return JSON.stringify(v);
    case 'int':
    case 'long':
    case 'abstract:long': // the BigInt long type above
      return v.toString();
    case 'float':
    case 'double':
      return JSON.stringify(double(v));
    case 'bytes':
      return JSON.stringify(v.toString('base64'));
    case 'array':
      return '[' + v.map((item) => canon(type.itemsType, item)).join(',') + ']';
    case 'map':
      return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + canon(type.valuesType, v[k])).join(',') + '}';
    case 'record':
    case 'error':
      return '{' + type.fields.map((f) => JSON.stringify(f.name) + ':' + canon(f.type, v[f.name])).join(',') + '}';
    case 'union:wrapped': {
      if (v === null) return 'null';
      const [key] = Object.keys(v);
      const branch = type.types.find((t) => t.branchName === key);
      if (!branch) throw new Error(`union has no branch ${key}`);
      return '{' + JSON.stringify(key) + ':' + canon(branch, v[key]) + '}';
    }
    default:
      throw new Error(`type ${type.typeName} not handled`);
  }
}

// A canonical JSON value (longs as decimal strings) to what avsc writes.
function fromCanon(type, v) {
  switch (type.typeName) {
    case 'long': // a long with a logical type keeps avsc's own type: timestamps fit in 2^53
      return Number(v);
    case 'abstract:long':
      return BigInt(v);
    case 'int':
      return Number(v);
    case 'double':
    case 'float':
      return v === 'NaN' ? NaN : Buffer.from(v, 'hex').readDoubleBE();
    case 'bytes':
      return Buffer.from(v, 'base64');
    case 'array':
      return v.map((item) => fromCanon(type.itemsType, item));
    case 'map':
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, fromCanon(type.valuesType, item)]));
    case 'record':
      return type.clone(Object.fromEntries(type.fields.map((f) => [f.name, fromCanon(f.type, v[f.name])])));
    case 'union:wrapped': {
      if (v === null) return null;
      const [key] = Object.keys(v);
      const branch = type.types.find((t) => t.branchName === key);
      return { [key]: fromCanon(branch, v[key]) };
    }
    default:
      return v;
  }
}

function* frames(buf) {
  let at = 0;
  while (at < buf.length) {
    const size = buf.readUInt32BE(at);
    yield buf.subarray(at + 4, at + 4 + size);
    at += 4 + size;
  }
}

function decode(paths) {
  const writer = load(paths[0]);
  const reader = paths[1] ? load(paths[1]) : writer;
  const resolver = paths[1] ? reader.createResolver(writer) : undefined;
  const want = fingerprint(writer);
  const out = [];
  for (const msg of frames(fs.readFileSync(0))) {
    try {
      if (msg.length < 10 || !msg.subarray(0, 2).equals(MAGIC)) throw new Error('not single-object encoding');
      const got = msg.subarray(2, 10);
      if (!got.equals(want)) throw new Error(`bad fingerprint ${got.toString('hex')}, expected ${want.toString('hex')}`);
      out.push('{"record":' + canon(reader, reader.fromBuffer(msg.subarray(10), resolver)) + '}');
    } catch (err) {
      out.push(JSON.stringify({ error: err.message }));
    }
  }
  process.stdout.write(out.map((line) => line + '\n').join(''));
}

function encode(path) {
  const type = load(path);
  const header = Buffer.concat([MAGIC, fingerprint(type)]);
  const parts = [];
  for (const line of fs.readFileSync(0, 'utf8').split('\n')) {
    if (!line) continue;
    const value = JSON.parse(line); // longs come as decimal strings, so BigInt gets them exactly
    const body = type.toBuffer(fromCanon(type, value));
    const size = Buffer.alloc(4);
    size.writeUInt32BE(header.length + body.length);
    parts.push(size, header, body);
  }
  process.stdout.write(Buffer.concat(parts));
}

function main([command, ...paths]) {
  if (command === 'fingerprint') {
    for (const path of paths) {
      const type = load(path);
      const canonical = JSON.stringify(type.schema());
      process.stdout.write(JSON.stringify({ file: path, full_name: type.name, canonical, fingerprint: fingerprint(type).toString('hex') }) + '\n');
    }
  } else if (command === 'decode') {
    decode(paths);
  } else if (command === 'encode') {
    encode(paths[0]);
  } else {
    throw new Error('usage: avroclient.js fingerprint|decode|encode FILE.avsc...');
  }
}

main(process.argv.slice(2));
