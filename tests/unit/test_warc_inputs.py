"""Broken WARC archives a crawler can write: each is read as far as it can be, never stops the other inputs,
and what it cannot give is a dead letter with its reason."""

from __future__ import annotations

import json
from collections import Counter

from tests.unit.test_warc_limits import GOOD_BODY, http_message, warc_record, write_archive
from transforms.file_io import iter_file
from transforms.kafka_io import KafkaRecord


def test_a_response_without_a_target_uri_is_read_as_an_article_without_url(tmp_path):
    """warcio failed with an AttributeError on it (``uri.startswith``), which ended ``newsflow process`` with
    exit code 1 and failed a backfill; the URL is optional in the input contract, the page is not lost."""
    entry = warc_record(2, http_message(GOOD_BODY % 2))[0]
    entry = entry.replace(b"WARC-Target-URI: https://n.example/2\r\n", b"")
    skipped: Counter = Counter()
    records = list(iter_file(str(write_archive(tmp_path, "", entry)), skipped=skipped))
    assert [type(r) for r in records] == [KafkaRecord] * 3 and not skipped
    envelope = json.loads(records[1].value)
    assert "url" not in envelope and envelope["html"] == (GOOD_BODY % 2).decode()
    assert records[1].key is None


def test_a_record_without_a_target_uri_and_without_http_is_skipped_as_one(tmp_path):
    """No URI and a block that is no HTTP message: skipped and counted (as `status`: no 2xx status line), as
    a record with an http: URI and such a block is."""
    entry = warc_record(2, b"<p>a page without HTTP headers</p>")[0]
    entry = entry.replace(b"WARC-Target-URI: https://n.example/2\r\n", b"")
    skipped: Counter = Counter()
    records = list(iter_file(str(write_archive(tmp_path, "", entry)), skipped=skipped))
    assert len(records) == 2 and skipped == Counter(status=1)
