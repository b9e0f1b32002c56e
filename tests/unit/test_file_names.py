"""Input files whose names are not UTF-8 (an old archive's Latin-1, a share mounted with another charset):
Python gives their paths lone surrogates, which no UTF-8 encoder takes. Their records, envelopes and
dead letters name them in valid Unicode, so neither ``newsflow process`` nor a backfill fails on them."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli.inputs import iter_messages
from tests.unit.test_warc_limits import GOOD_BODY, http_message, warc_record
from transforms.file_io import Oversized, iter_file, source_name

ENVELOPE = b'{"url": "https://a.example/1", "text": "one"}'


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.binary(min_size=1, max_size=12).filter(
        lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
    ),
    kind=st.sampled_from(["jsonl", "html", "warc", "jsonl.gz"]),
)
def test_every_record_of_a_file_names_it_in_valid_unicode(tmp_path_factory, name, kind):
    """Each record's topic, an oversized record's path and the envelope's file name encode as UTF-8 (the
    surrogates failed the dedup fingerprint and Avro); a UTF-8 name is kept as it is."""
    directory = os.fsencode(tmp_path_factory.mktemp("names"))
    path = os.fsdecode(directory + b"/" + name + b"." + kind.encode())
    data = {
        "jsonl": ENVELOPE + b"\n" + b"x" * 200 + b"\n",
        "jsonl.gz": gzip.compress(ENVELOPE + b"\n"),
        "html": GOOD_BODY % 1,
        "warc": warc_record(1, http_message(GOOD_BODY % 1))[0],
    }[kind]
    with open(path, "wb") as out:
        out.write(data)
    records = list(iter_file(path, limit=100))
    assert records
    for record in records:
        named = record.path if isinstance(record, Oversized) else record.topic
        assert named == source_name(path) and named.encode("utf-8")
        if not isinstance(record, Oversized):
            envelope = json.loads(record.value.decode("utf-8"))
            assert all(value.encode("utf-8") for value in envelope.get("metadata", {}).values())
        else:
            assert record.dead_letter().message.encode("utf-8")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        assert source_name(path).encode("utf-8", "surrogateescape") != os.fsencode(path)  # shown escaped
    else:
        assert source_name(path) == path


def test_process_inputs_and_their_read_errors_name_the_file_in_valid_unicode(tmp_path):
    path = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.jsonl.gz")
    with open(path, "wb") as out:
        out.write(gzip.compress(ENVELOPE + b"\n" + ENVELOPE + b"\n")[:-12])  # cut short: a read error too
    errors: list[str] = []
    messages = list(iter_messages([path], unreadable=lambda p, _: errors.append(source_name(p))))
    assert [position.topic for _, position in messages] == [str(tmp_path) + "/caf\\xe9.jsonl.gz"] * len(
        messages
    )
    assert errors == [str(tmp_path) + "/caf\\xe9.jsonl.gz"]


_BYTE_NAMES = st.binary(min_size=1, max_size=12).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)


@pytest.fixture(scope="module")
def extractor():
    """The NER model, loaded once for the generated runs of ``newsflow entities``."""
    from transforms.entities import EntityExtractor

    return EntityExtractor().load()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_BYTE_NAMES)
def test_entities_names_every_file_in_valid_unicode(tmp_path_factory, monkeypatch, capsys, extractor, name):
    """Its JSON's path, a file's error line and a missing file's failure line: the escaped name that
    ``process`` and ``backfill`` give (they printed lone surrogates: raw bytes or ``\\udce9``)."""
    import transforms.entities
    from pipelines import cli, logs

    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: False)
    monkeypatch.setattr(transforms.entities, "EntityExtractor", lambda: extractor)
    directory = os.fsencode(tmp_path_factory.mktemp("names"))
    good, bad, missing = (os.fsdecode(directory + b"/" + name + end) for end in (b".txt", b"-bad", b"-gone"))
    with open(good, "w", encoding="utf-8") as out:
        out.write("Angela Merkel met officials in Paris on Monday.\n")
    with open(bad, "wb") as out:
        out.write(b"\xff\xfe not UTF-8\n")
    capsys.readouterr()
    assert cli.main(["--log-format", "console", "entities", good, bad]) == 7
    out, err = capsys.readouterr()
    assert json.loads(out)["path"] == source_name(good)
    assert err.startswith(f"newsflow entities: {source_name(bad)}: 'utf-8' codec can't decode")
    assert cli.main(["--log-format", "console", "entities", missing]) == 7
    assert capsys.readouterr().err == f"newsflow entities: {source_name(missing)}: no such file\n"
    for text in (out, err, source_name(good)):
        text.encode("utf-8")  # no lone surrogate anywhere


@pytest.mark.parametrize("command", ["process", "produce", "entities"])
def test_a_failure_line_in_json_names_the_file_escaped(command, tmp_path):
    """The JSON failure line (and every log field) of any command: the escaped name, not ``\\udce9``."""
    from tests.cli_runs import failure_line, newsflow

    path = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9-\xff.jsonl")
    last = failure_line(newsflow(command, path), 7)
    assert last["error"].startswith(f"{tmp_path}/caf\\xe9-\\xff.jsonl: no such file")
