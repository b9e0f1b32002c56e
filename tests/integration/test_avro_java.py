"""Conformance with Apache Avro's Java reference implementation, on the real broker and the real stream.

One stream run over a mixed input (the demo's articles, texts with unicode, nulls and empty arrays,
``newsflow produce --format avro`` envelopes, raw articles written by Java's ``BinaryMessageEncoder``, one
in newsflow 0.1's reversed-fingerprint format, and three broken Avro messages) feeds every test here:

* every schema's fingerprint is the one Java's ``SchemaNormalization.parsingFingerprint64`` computes;
* every record newsflow wrote, on all four schemas, decodes with Java's ``BinaryMessageDecoder`` to the
  record we meant, and Java's ``BinaryMessageEncoder`` writes it back with the same header and record;
* Java-written raw articles come out exactly as their JSON twins do;
* every record carries its headers; broken Avro goes to the DLQ with a reason, without stalling;
* the Java and Python consumer examples read ``articles.clean``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import fastavro
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipelines.cli.topic_reader import records_to_end
from pipelines.options import Limits, Processing, Topics
from tests.cli_runs import newsflow, topic_flags
from tests.java_avro import JAVA_EXAMPLE, ROOT, JavaAvro, build, classpath
from tests.shared_data import CONLL_TRAIN
from transforms import avro
from transforms.entities.conll import stories
from transforms.headers import as_dict
from transforms.kafka_io import KafkaRecord
from transforms.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.java]

SCHEMA_OF_TOPIC = {"raw": "raw_article", "clean": "article", "duplicates": "duplicate", "dlq": "dead_letter"}
UNICODE = "Zürich, São Paulo, Kraków and 東京: “curly quotes”, a ½ and an emoji 🚀 in one sentence."
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


@dataclass
class Run:
    """What the module's stream run was given and what it wrote."""

    settings: KafkaSettings
    topics: Topics
    records: dict[str, list]  # "raw" | "clean" | "duplicates" | "dlq" -> ConsumerRecords
    java_twins: dict[str, bytes]  # url -> the JSON twin of a raw article Java encoded
    bad: dict[int, str]  # raw offset on partition 0 -> the reason it must get
    legacy_url: str
    group: str
    stderr: str


def _envelopes() -> list[dict]:
    texts = stories(CONLL_TRAIN)[300:307]
    return (
        [
            {
                "url": "https://unicode.example/1",
                "source": "unicode.example",
                "text": UNICODE + "\n\n" + texts[0],
            },
            {
                "url": "https://timed.example/2",
                "text": texts[1],
                "fetched_at": "2026-11-24T08:00:00.123Z",
                "published_at": "2026-11-23T17:45:00Z",
                "language": "en",
                "metadata": {"crawl": "cc-news-2026-11", "note": "ünï"},
            },
            {"text": texts[2]},  # no url, no source, no times: nulls and empty arrays everywhere
        ],
        texts[3:],
    )


def _avro_json(envelope: dict) -> dict:
    """A raw article in Avro's JSON encoding (unions named), for Java's encoder."""
    record = {}
    for name in ("url", "source", "html", "text", "language"):
        record[name] = {"string": envelope[name]} if envelope.get(name) is not None else None
    for name in ("fetched_at", "published_at"):
        value = envelope.get(name)
        record[name] = {"long": _ms(datetime.fromisoformat(value.replace("Z", "+00:00")))} if value else None
    record["metadata"] = envelope.get("metadata", {})
    return record


@pytest.fixture(scope="module")
def run(kafka_broker, java_avro: JavaAvro, tmp_path_factory) -> Run:
    tmp = tmp_path_factory.mktemp("avro-java")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    topics = Topics(f"{prefix}.raw", f"{prefix}.clean", f"{prefix}.duplicates", f"{prefix}.dlq")
    kafka_broker.create_topics(topics.all(), partitions=2)
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    raw_schema = avro.SCHEMA_DIR / "raw_article.avsc"
    json_envelopes, java_texts = _envelopes()

    producer = KafkaProducer(**settings.producer_kwargs())

    def send(value: bytes, partition: int) -> int:
        return producer.send(topics.input_topic, value=value, partition=partition).get(timeout=30).offset

    good = avro.encode("raw_article", {"url": "https://bad.example/x", "text": "Some text."})
    fp = good[2:10].hex()
    bad = {
        send(
            b"\xc3\x01" + bytes(range(1, 9)) + good[10:], 0
        ): "unknown Avro schema fingerprint 0102030405060708",
        send(good[:10], 0): f"ends after the header for newsflow.RawArticle (fingerprint {fp})",
        send(
            good[:10] + b"\x07" + good[11:], 0
        ): f"does not match its schema newsflow.RawArticle (fingerprint {fp})",
    }
    java_twins = {}
    for i, text in enumerate(java_texts[:2]):
        envelope = {
            "url": f"https://java{i}.example/story",
            "source": f"java{i}.example",
            "text": (UNICODE if i == 0 else "") + text,
            "fetched_at": "2026-11-25T10:11:12.345Z",
            "metadata": {"producer": "java"},
        }
        send(java_avro.encode(raw_schema, _avro_json(envelope)), 0)  # after the broken ones: no stall
        java_twins[envelope["url"]] = json.dumps(envelope).encode()
    legacy = avro.encode("raw_article", {"url": "https://legacy.example/a", "text": java_texts[2]})
    send(legacy[:2] + avro.known_schemas()["raw_article"].legacy_fingerprint_bytes + legacy[10:], 1)
    twice = json.dumps({"url": "https://twice.example/1", "text": java_texts[3]}).encode()
    send(twice, 1), send(twice, 1)  # the second is a duplicate verdict, whatever the demo's pair gives
    producer.close()

    jsonl = tmp / "inputs.jsonl"
    jsonl.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in json_envelopes))
    boot = ["--bootstrap-servers", kafka_broker.bootstrap]
    for path, fmt in ((ROOT / "examples" / "articles.jsonl", "json"), (jsonl, "avro")):
        done = newsflow(
            "produce", *boot, "--topic", topics.input_topic, "--format", fmt, str(path), timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]

    group = f"{prefix}-group"
    done = newsflow(
        "stream", *boot, *topic_flags(topics), "--group-id", group, "--idle-timeout", "8",
        "--state-dir", str(tmp / "state"), timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    records = {
        kind: list(records_to_end(settings, getattr(topics, attr)))
        for kind, attr in (
            ("raw", "input_topic"),
            ("clean", "output_topic"),
            ("duplicates", "duplicates_topic"),
            ("dlq", "dlq_topic"),
        )
    }
    return Run(settings, topics, records, java_twins, bad, "https://legacy.example/a", group, done.stderr)


def test_every_schema_has_the_fingerprint_java_computes(java_avro):
    for name, known in avro.known_schemas().items():
        java = java_avro.fingerprint(avro.SCHEMA_DIR / avro.SCHEMA_FILES[name])
        assert java["full_name"] == known.full_name
        assert java["canonical"] == fastavro.schema.to_parsing_canonical_form(known.parsed)
        assert avro.as_java_long(known.fingerprint) == java["fingerprint"], name
        assert known.fingerprint_bytes == java["fingerprint"].to_bytes(8, "little", signed=True)


def _ours(name: str, value: bytes) -> list:
    """The record as we decode it, in Avro's JSON encoding (fastavro), to compare with Java's."""
    out = io.StringIO()
    schema = avro.known_schemas()[name].parsed
    fastavro.json_writer(out, schema, [avro.decode(value)[1]])
    return json.loads(out.getvalue())


def test_java_decodes_every_record_newsflow_wrote(run, java_avro):
    seen = dict.fromkeys(SCHEMA_OF_TOPIC.values(), 0)
    features = set()
    for kind, name in SCHEMA_OF_TOPIC.items():
        schema_path = avro.SCHEMA_DIR / avro.SCHEMA_FILES[name]
        for rec in run.records[kind]:
            if as_dict(rec.headers).get("newsflow.schema") is None:
                continue  # raw inputs newsflow did not write (JSON lines, Java's, the broken ones)
            java = java_avro.decode(schema_path, rec.value)
            assert java["full_name"] == avro.known_schemas()[name].full_name
            # Java's encoder writes the same header and a datum that decodes to the same record (byte for
            # byte but for the order of map entries, which Avro leaves open: Java keeps maps in a HashMap)
            assert java["reencoded"][:10] == rec.value[:10]
            assert avro.decode(java["reencoded"]) == avro.decode(rec.value)
            assert java["record"] == _ours(name, rec.value), f"{kind}@{rec.partition}:{rec.offset}"
            seen[name] += 1
            text = json.dumps(java["record"], ensure_ascii=False)
            features |= {f for f, there in _features(text, java["record"]).items() if there}
    assert all(seen.values()), seen
    assert features == {"null", "empty array", "unicode", "timestamp"}, features


def test_java_finds_every_mention_at_its_code_point_offsets(run, java_avro):
    """Mention offsets count code points (Python ``str`` indices), as the README says; Java's ``substring``
    counts UTF-16 units, so after an emoji (``UNICODE`` holds one before the story's names) only the
    code-point slice the README gives Java consumers finds the mention."""
    schema_path = avro.SCHEMA_DIR / avro.SCHEMA_FILES["article"]
    mentions = [m for rec in run.records["clean"] for m in java_avro.mentions(schema_path, rec.value)]
    assert mentions and all(m["code_points"] == m["text"] for m in mentions), mentions
    assert any(m["utf16"] != m["text"] for m in mentions), "no mention after a character beyond the BMP"


def _features(text: str, record: dict) -> dict[str, bool]:
    return {
        "null": None in record.values(),
        "empty array": [] in record.values(),
        "unicode": "東京" in text and "🚀" in text,
        "timestamp": any(isinstance(v, dict) and "long" in v for v in record.values()),
    }


def test_every_written_record_carries_its_headers(run):
    for kind in ("clean", "duplicates", "dlq"):
        assert run.records[kind], kind
        for rec in run.records[kind]:
            headers = as_dict(rec.headers)
            known = avro.known_schemas()[SCHEMA_OF_TOPIC[kind]]
            assert headers["content-type"] == "avro/binary"
            assert headers["newsflow.schema"] == known.full_name
            assert headers["newsflow.schema.fingerprint"] == rec.value[2:10].hex()
            assert headers["newsflow.version"].startswith("newsflow/")
    for rec in run.records["dlq"]:
        headers, letter = as_dict(rec.headers), avro.decode(rec.value)[1]
        position = letter["source_position"]
        assert headers["newsflow.errors.topic"] == position["topic"] == run.topics.input_topic
        assert int(headers["newsflow.errors.partition"]) == position["partition"]
        assert int(headers["newsflow.errors.offset"]) == position["offset"]
        assert headers["newsflow.errors.stage"] == letter["stage"]
        assert headers["newsflow.errors.exception.class.name"] == letter["error_type"]
        assert letter["message"].startswith(headers["newsflow.errors.exception.message"].rstrip("…"))
    produced = [as_dict(r.headers) for r in run.records["raw"] if r.headers]
    assert {h["content-type"] for h in produced} == {"application/json", "avro/binary"}


def test_java_encoded_raw_articles_come_out_like_their_json_twins(run):
    from pipelines.chain import LocalChain
    from transforms.records import to_dict

    chain = LocalChain(Limits(), Processing())
    clean = {r["url"]: r for r in (avro.decode(rec.value)[1] for rec in run.records["clean"])}
    for url, twin in run.java_twins.items():
        kind, expected = chain.run(KafkaRecord("twin", 0, 0, None, twin, 0))
        assert kind == "article"
        got = dict(clean[url])
        want = to_dict(expected)
        got.pop("source_position"), want.pop("source_position")
        assert got == want


def test_broken_avro_gets_a_reason_and_does_not_stall_its_partition(run):
    letters = {}
    for rec in run.records["dlq"]:
        letter = avro.decode(rec.value)[1]
        if letter["source_position"]["partition"] == 0:
            letters[letter["source_position"]["offset"]] = letter
    known = avro.known_list()
    for offset, reason in run.bad.items():
        letter = letters[offset]
        assert letter["stage"] == "parse" and letter["error_type"] == "ParseError"
        assert reason in letter["message"]
        raw = next(r for r in run.records["raw"] if r.partition == 0 and r.offset == offset)
        assert letter["original"] == raw.value, "the complete original bytes"
    unknown = letters[min(run.bad)]["message"]
    assert known in unknown, "the unknown-fingerprint reason lists the schemas we know"
    assert set(run.java_twins) <= {avro.decode(r.value)[1]["url"] for r in run.records["clean"]}
    consumer = KafkaConsumer(**run.settings.consumer_kwargs(run.group))
    try:
        tps = [TopicPartition(run.topics.input_topic, p) for p in (0, 1)]
        end = consumer.end_offsets(tps)
        assert {tp: consumer.committed(tp) for tp in tps} == end, "every partition committed to its end"
    finally:
        consumer.close()


def test_legacy_fingerprint_is_read_and_logged_once(run):
    assert run.legacy_url in {avro.decode(r.value)[1]["url"] for r in run.records["clean"]}
    events = [json.loads(line) for line in run.stderr.splitlines() if "avro_legacy_fingerprint" in line]
    assert events and {e["topic"] for e in events} == {run.topics.input_topic}


def test_legacy_dead_letters_are_read_by_consume_and_dlq_replay(kafka_broker, tmp_path):
    topic = f"test-{uuid.uuid4().hex[:12]}.dlq"
    kafka_broker.create_topics([topic], partitions=1)
    letter = {"original": b'{"text": 1}', "stage": "parse", "error_type": "ParseError", "message": "m"}
    value = avro.encode("dead_letter", {**letter, "failed_at": datetime(2026, 1, 1, tzinfo=UTC)})
    legacy = value[:2] + avro.known_schemas()["dead_letter"].legacy_fingerprint_bytes + value[10:]
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    producer.send(topic, legacy).get(timeout=30)
    producer.send(topic, b"\xc3\x01" + bytes(8)).get(timeout=30)  # undecodable: reported, not fatal
    producer.close()
    boot = ["--bootstrap-servers", kafka_broker.bootstrap]
    consume = newsflow("consume", *boot, "--topic", topic, timeout=120)
    assert consume.returncode == 0, consume.stderr[-2000:]
    first, second = (json.loads(line) for line in consume.stdout.splitlines())
    assert first["_schema"] == "dead_letter" and first["original"] == '{"text": 1}'
    assert second["_schema"] == "undecodable" and "unknown Avro schema fingerprint" in second["error"]
    assert consume.stderr.count('"avro_legacy_fingerprint"') == 1
    replay = newsflow("dlq", "replay", *boot, "--dlq-topic", topic, "--dry-run", timeout=120)
    assert replay.returncode == 0, replay.stderr[-2000:]
    plan = [json.loads(line) for line in replay.stdout.splitlines()]
    assert plan[0]["action"] == "send" and plan[0]["stage"] == "parse"
    assert plan[-1]["summary"]["selected"] == 1


def _example_output(cmd: list[str]) -> list[dict]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_java_consumer_example_reads_articles_clean(run):
    build(JAVA_EXAMPLE)
    cmd = ["java", "-cp", classpath(JAVA_EXAMPLE), "newsflow.examples.ArticleConsumer"]
    cmd += ["--bootstrap-servers", run.settings.bootstrap_servers, "--topic", run.topics.output_topic]
    cmd += ["--group-id", f"java-{uuid.uuid4().hex[:8]}", "--idle-seconds", "5"]
    _check_example(run, _example_output(cmd))


def test_python_consumer_example_reads_articles_clean(run):
    script = ROOT / "examples" / "consumers" / "python" / "consume_articles.py"
    cmd = [sys.executable, str(script), "--bootstrap-servers", run.settings.bootstrap_servers]
    cmd += [
        "--topic",
        run.topics.output_topic,
        "--group-id",
        f"py-{uuid.uuid4().hex[:8]}",
        "--idle-seconds",
        "5",
    ]
    _check_example(run, _example_output(cmd))


def _check_example(run: Run, lines: list[dict]) -> None:
    ours = {(r.partition, r.offset): avro.decode(r.value)[1] for r in run.records["clean"]}
    assert {(line["partition"], line["offset"]) for line in lines} == set(ours)
    for line in lines:
        mine = ours[(line["partition"], line["offset"])]
        assert "error" not in line, line.get("error")
        assert line["schema"] == "newsflow.Article"
        assert line["headers"]["newsflow.schema"] == "newsflow.Article"
        record = line["record"]
        assert (record["id"], record["title"], record["body"]) == (mine["id"], mine["title"], mine["body"])
        assert [e["name"] for e in record["entities"]] == [e["name"] for e in mine["entities"]]
        fetched = record["fetched_at"]
        if mine["fetched_at"] is None:
            assert fetched is None
        elif isinstance(fetched, int):  # Java: epoch milliseconds
            assert fetched == _ms(mine["fetched_at"])
        else:  # Python's avro: a datetime, printed in ISO 8601
            assert datetime.fromisoformat(fetched) == mine["fetched_at"]
