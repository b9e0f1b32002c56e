"""The reference article from ../shared/fixtures, through `newsflow process` and through the streaming pipeline."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kafka import KafkaProducer

from pipelines.cli.commands.consume import iter_records
from tests.shared_data import REFERENCE
from transforms.records import Article, from_dict
from transforms.settings import KafkaSettings

TEXT = REFERENCE.with_suffix(".txt")
EXPECTED = json.loads(REFERENCE.with_suffix(".expected.json").read_text())


def expected_text() -> str:
    """What `newsflow process --format text` must print for the reference article, exactly."""
    lines = [f"# {EXPECTED['title']}", "", "\n\n".join(EXPECTED["body_paragraphs"]), ""]
    lines += [f"[caption] {c['text']} | credit: {c['credit']}" for c in EXPECTED["captions"]]
    lines += [f"[credit] {c}" for c in EXPECTED["credits"]]
    return "\n".join(lines) + "\n\n"


def check_article(article: Article) -> None:
    assert article.title == EXPECTED["title"]
    assert article.body.split("\n\n") == EXPECTED["body_paragraphs"]
    assert [(c.text, c.credit) for c in article.captions] == [
        (c["text"], c["credit"]) for c in EXPECTED["captions"]
    ]
    assert article.credits == EXPECTED["credits"]
    for line in EXPECTED["boilerplate_lines"]:
        assert line not in article.body
    by_name = {(e.type, e.name): e for e in article.entities}
    for etype, entities in EXPECTED["entities"].items():
        for name, forms in entities.items():
            matches = [
                e
                for (t, _), e in by_name.items()
                if t == etype and {m.text for m in e.mentions} >= set(forms)
            ]
            assert len(matches) == 1, (etype, name, forms)
    for entity in article.entities:
        assert all(article.body[m.start : m.end] == m.text for m in entity.mentions)
        for forbidden in EXPECTED["entities_forbidden"]:
            if forbidden["type"] in ("*", entity.type):
                assert forbidden["text"] not in {m.text for m in entity.mentions}, (forbidden, entity.name)


def test_process_text_format_gives_exactly_the_expected_article():
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "process", "--format", "text", str(TEXT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == expected_text()


def test_process_json_has_the_entities():
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "process", str(TEXT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    (line,) = run.stdout.splitlines()
    record = json.loads(line)
    assert record.pop("kind") == "article"
    check_article(from_dict(Article, record))


@pytest.mark.integration
def test_pipeline_gives_the_expected_article(kafka_broker, topics, run_stream, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    producer = KafkaProducer(**settings.producer_kwargs())
    envelope = {
        "url": "https://www.themoscowtimes.com/2025/04/28/a",
        "source": "The Moscow Times",
        "text": TEXT.read_text(),
    }
    producer.send(topics.input_topic, json.dumps(envelope).encode()).get(timeout=30)
    producer.close()
    run = run_stream("--idle-timeout", "5", "--group-id", "ref", "--state-dir", str(tmp_path / "state"))
    assert run.returncode == 0, run.stderr[-2000:]
    (record,) = [r for _, _, _, r in iter_records(settings, topics.output_topic)]
    check_article(from_dict(Article, record))
