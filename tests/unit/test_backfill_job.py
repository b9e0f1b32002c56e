"""``newsflow backfill`` without a broker: time windows, job validation, run identity, options, progress."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone

import fastavro
import pytest
from apache_beam.options.pipeline_options import DirectOptions

from pipelines.backfill import (
    BOARD,
    BackfillJob,
    DealByCostDoFn,
    beam_options,
    day_window,
    format_progress,
    in_window,
    needs_spread,
    parse_instant,
    progress_line,
    read_board,
    worker_cpu,
)
from pipelines.cli import main
from pipelines.engine import worker_cache
from pipelines.options import Topics
from transforms.file_io import FileRange
from transforms.kafka_io import KafkaRecord
from transforms.records import Article

NOV1 = datetime(2026, 11, 1, tzinfo=UTC)
NOV2 = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01T00:00Z", NOV1),
        ("2026-11-01", NOV1),
        ("2026-11-01T01:00:00+01:00", NOV1),
        ("2026-11-01T00:00:00", NOV1),
    ],
)
def test_parse_instant_reads_iso_times_as_utc(text, expected):
    assert parse_instant(text) == expected


def test_parse_instant_rejects_other_text():
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_instant("last tuesday")


def test_day_window_is_one_utc_day():
    assert day_window("2026-11-01", datetime(2030, 1, 1, tzinfo=UTC)) == (NOV1, NOV2)
    late = datetime(2026, 11, 2, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    assert day_window("yesterday", late.astimezone(UTC)) == (NOV2, NOV2 + timedelta(days=1))


def test_window_is_half_open():
    start, stop = int(NOV1.timestamp() * 1000), int(NOV2.timestamp() * 1000)
    record = KafkaRecord("t", 0, 0, None, b"x", start)
    assert in_window(record, start, stop)
    assert not in_window(KafkaRecord("t", 0, 1, None, b"x", stop), start, stop)
    assert not in_window(KafkaRecord("t", 0, 2, None, b"x", start - 1), start, stop)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outputs": ["out"]}, "either input files"),
        ({"outputs": ["out"], "inputs": ["a.jsonl"], "start": NOV1, "stop": NOV2}, "either input files"),
        ({"outputs": ["out"], "start": NOV1}, "both --from and --to"),
        ({"outputs": ["out"], "start": NOV2, "stop": NOV1}, "empty window"),
        ({"outputs": [], "inputs": ["a.jsonl"]}, "at least one --output"),
    ],
)
def test_job_rejects_incomplete_requests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BackfillJob(**kwargs)


def test_run_id_names_what_is_read_not_where_it_goes():
    topics = Topics(input_topic="articles.raw")
    one = BackfillJob(outputs=["a"], topics=topics, start=NOV1, stop=NOV2)
    same = BackfillJob(outputs=["b", "kafka"], topics=topics, start=NOV1, stop=NOV2, codec="snappy")
    other = BackfillJob(outputs=["a"], topics=topics, start=NOV1, stop=NOV2 + timedelta(hours=1))
    assert one.run_id() == same.run_id() != other.run_id()
    assert one.spec() == {
        "source": "kafka",
        "topic": "articles.raw",
        "from": NOV1.isoformat(),
        "to": NOV2.isoformat(),
    }
    assert same.directories == ["b"] and same.to_kafka and not one.to_kafka


def test_direct_runner_defaults_to_one_process_per_worker():
    options, local = beam_options([], 2)
    direct = options.view_as(DirectOptions)
    assert local and direct.direct_num_workers == 2 and direct.direct_running_mode == "multi_processing"
    assert options.get_all_options()["default_sdk_harness_log_level"] == "WARNING"
    options, local = beam_options(["--direct_num_workers=3", "--direct_running_mode=in_memory"], 2)
    assert options.view_as(DirectOptions).direct_num_workers == 3
    assert options.view_as(DirectOptions).direct_running_mode == "in_memory"
    assert beam_options(["--runner=FlinkRunner"], 2)[1] is False


def test_progress_sums_every_worker_and_estimates_the_rest(tmp_path):
    board = str(tmp_path)
    BOARD.add(board, "found", 10)
    BOARD.add(board, "read", 4)
    BOARD.flush(board)
    (tmp_path / "99999999.json").write_text(json.dumps({"read": 2}))
    (tmp_path / "torn.json").write_text("{")
    (tmp_path / "99999998.json").write_text(json.dumps({"read": 0, "cpu_s": 1.5}))
    counts = read_board(board)
    assert counts == {"found": 10, "read": 6}
    assert len(worker_cpu(board)) == 2 and 1.5 in worker_cpu(board)
    reading = format_progress(counts, None, 2.0)
    assert (reading["phase"], reading["total"], reading["rate"], reading["eta_s"]) == ("read", 10, 3.0, 1)
    line = progress_line(reading)
    assert "read 6/10 60%" in line and "ETA 0:00:01" in line

    done = {"found": 10, "read": 10, "articles": 4, "duplicates": 1, "dlq": 1}
    writing = format_progress(done, None, 30.0, out_elapsed=3.0)
    assert (writing["phase"], writing["dropped"], writing["rate"], writing["eta_s"]) == ("write", 2, 2.0, 2)
    assert format_progress({}, 100, 0.0)["eta_s"] is None

    fused = format_progress({"found": 6, "read": 6}, None, 2.0)  # read where processed: total not known yet
    assert (fused["total"], fused["eta_s"]) == (None, None) and "read 6  out 0" in progress_line(fused)


def test_cli_backfills_files_in_process_and_replaces_its_output(tmp_path):
    data = tmp_path / "in.jsonl"
    lines = [
        {"url": f"https://a.example/{i}", "text": f"Story {i}.", "published_at": "2026-11-01T10:00:00Z"}
        for i in range(5)
    ]
    data.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    out = tmp_path / "out"
    argv = [
        "backfill",
        "--input",
        str(data),
        "--output",
        str(out),
        "--passthrough",
        "true",
        "--codec",
        "null",
    ]
    argv += ["--", "--direct_running_mode=in_memory", "--direct_num_workers=1"]
    assert main(argv) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.avro"))
    assert [p.split("/")[0] for p in written] == ["articles", "dlq"]
    with open(out / written[0], "rb") as f:
        assert sorted(r["url"] for r in fastavro.reader(f)) == [line["url"] for line in lines]
    before = {p: os.stat(out / p).st_ino for p in written}
    assert main(argv) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.avro")) == written
    assert any(os.stat(out / p).st_ino != before[p] for p in written), "files were rewritten in place"


def test_cli_refuses_day_and_window_together(tmp_path, capsys):
    argv = ["--log-format", "console", "backfill", "--day", "yesterday", "--from", "2026-11-01"]
    assert main([*argv, "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "newsflow backfill: give --day or --from/--to, not both"


def test_learned_boilerplate_in_batch_is_the_same_whatever_the_reading_order():
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that, equal_to

    from transforms.boilerplate.learned import RemoveLearnedBoilerplate
    from transforms.records import Article

    furniture = "Sign up for our newsletter to get every story in your inbox"
    articles = [
        Article(
            id=f"a{i}",
            body=f"The {word} witness told the court what she saw that night, and the judge asked her to say it "
            f"again, slowly, for the jury. The defence asked no questions, and the court adjourned until the "
            f"following morning.\n\n{furniture}",
            source="paper.example",
            published_at=NOV1 + timedelta(hours=i),
        )
        for i, word in enumerate(("first", "second", "third", "fourth", "fifth"))
    ]

    def bodies(order):
        with TestPipeline() as p:
            out = (
                p
                | beam.Create(order, reshuffle=False)
                | RemoveLearnedBoilerplate(mode="batch")
                | beam.Map(lambda a: (a.id, furniture in a.body))
            )
            # Learned once three earlier articles of the site carried it (LearnedConfig.min_others).
            known = [("a0", True), ("a1", True), ("a2", True), ("a3", False), ("a4", False)]
            assert_that(out, equal_to(known))

    bodies(articles)
    bodies(articles[::-1])


def test_records_are_spread_only_when_one_unsplittable_file_would_hold_up_the_other_workers():
    pieces = [FileRange("big.jsonl", 100, start=100 * i) for i in range(8)]
    assert not needs_spread(pieces, 2)
    archive = [FileRange("crawl.warc.gz", 800), FileRange("small.warc.gz", 10)]
    assert needs_spread(archive, 2) and not needs_spread(archive, 1)
    many = [FileRange(f"cc-news-{i}.warc.gz", 1000 + i) for i in range(40)]
    assert not needs_spread(many, 2) and not needs_spread([], 2)


def test_articles_are_dealt_to_the_bin_with_the_least_text_so_far():
    deal = DealByCostDoFn(3)
    deal.start_bundle()
    sizes = [900, 100, 100, 100, 500, 400, 300, 300, 300]
    dealt = [key for size in sizes for key, _ in deal.process(Article(id=str(size), body="x" * size))]
    assert dealt == [0, 1, 2, 1, 2, 1, 2, 1, 0]
    assert max(deal.loads) - min(deal.loads) <= max(sizes) and sum(deal.loads) == sum(sizes) + len(sizes)


def test_worker_model_is_loaded_once_per_process_in_the_background(monkeypatch):
    loads = []

    class FakeExtractor:
        def load(self):
            loads.append(1)
            return self

        def extract(self, body, title=None, *, time_budget=10.0):
            return [body.upper(), title, time_budget]

    monkeypatch.setattr("transforms.entities.EntityExtractor", FakeExtractor)
    monkeypatch.setattr(worker_cache, "_model", None)
    future = worker_cache.preload()
    assert worker_cache.preload() is future
    model = worker_cache.extractor()
    assert worker_cache.extractor() is model and loads == [1]
    assert model.extract("paris", "title", time_budget=2.0) == ["PARIS", "title", 2.0]


def test_a_failed_model_load_raises_where_the_model_is_needed(monkeypatch):
    class Broken:
        def load(self):
            raise OSError("model files missing")

    monkeypatch.setattr("transforms.entities.EntityExtractor", Broken)
    monkeypatch.setattr(worker_cache, "_model", None)
    worker_cache.preload()
    with pytest.raises(OSError, match="model files missing"):
        worker_cache.extractor()
