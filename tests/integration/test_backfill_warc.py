"""A WARC.gz archive of real pages backfills to Avro files that fastavro decodes against the schema file."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
from pathlib import Path

import fastavro
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.cli_runs import command
from tests.shared_data import SCRAPINGHUB
from transforms import avro

PAGES = 12
FETCHED = "2026-11-02T06:00:00Z"


def write_archive(path: Path) -> dict[str, int]:
    """The first benchmark pages as 200 text/html responses (each after its request); URL -> record offset."""
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text())
    urls = {}
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for page in sorted((SCRAPINGHUB / "html").glob("*.html.gz"))[:PAGES]:
            url = truth[page.name.split(".")[0]]["url"]
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"), warc_headers_dict={}
            )
            writer.write_record(request)
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            response = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(gzip.decompress(page.read_bytes())),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": FETCHED},
            )
            urls[url] = out.tell()
            writer.write_record(response)
    return urls


def test_warc_archive_backfills_to_decodable_avro_files(tmp_path):
    archive = tmp_path / "CC-NEWS-20261102060000-00001.warc.gz"
    offsets = write_archive(archive)
    out = tmp_path / "out"
    cmd = command("backfill")
    cmd += ["--input", str(tmp_path / "*.warc.gz"), "--output", str(out), "--source", "cc-news"]
    cmd += ["--codec", "snappy", "--workers", "2"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]

    schema = fastavro.schema.load_schema(str(avro.SCHEMA_DIR / "article.avsc"))
    articles, positions = [], []
    for path in sorted(out.rglob("*.avro")):
        with open(path, "rb") as f:
            reader = fastavro.reader(f, reader_schema=schema if "articles" in path.parts else None)
            assert reader.codec == "snappy"
            rows = list(reader)
        positions += [r["source_position"]["offset"] for r in rows]
        if "articles" in path.parts:
            day = path.parent.name.removeprefix("dt=")
            for row in rows:
                stamp = row["published_at"] or row["fetched_at"]
                assert stamp.strftime("%Y-%m-%d") == day
            articles += rows
    assert sorted(positions) == sorted(offsets.values()), "every page is in exactly one output"
    assert len(articles) >= PAGES - 2
    for article in articles:
        assert article["url"] in offsets and article["source_position"]["topic"] == str(archive)
        assert article["body"].strip() and article["source"] == "cc-news"
        assert article["fetched_at"].isoformat() == "2026-11-02T06:00:00+00:00"
