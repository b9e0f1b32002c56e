"""Every Kafka compression codec must be decodable before a command reads a topic: a codec without its
library made each poll of a partition raise at the same offset for ever (the partition stalled)."""

from __future__ import annotations

import pytest
from kafka import errors as kafka_errors

from pipelines import failures, preflight
from transforms.settings import KafkaSettings


def test_this_install_decodes_every_codec():
    preflight.check_codecs()


@pytest.mark.parametrize("missing", sorted(preflight.CODECS))
def test_a_missing_codec_is_named_with_its_package(monkeypatch, missing):
    has, package = preflight.CODECS[missing]
    monkeypatch.setitem(preflight.CODECS, missing, (lambda: False, package))
    with pytest.raises(failures.MissingCodec) as raised:
        preflight.check_codecs()
    assert f"{missing} (pip install {package})" in raised.value.message
    assert all(other not in raised.value.message for other in set(preflight.CODECS) - {missing})
    assert raised.value.exit_code == 9


def test_commands_that_read_check_codecs_before_the_broker(monkeypatch):
    monkeypatch.setitem(preflight.CODECS, "lz4", (lambda: False, "lz4"))
    nowhere = KafkaSettings(bootstrap_servers="127.0.0.1:1")  # never reached: the codecs fail first
    with pytest.raises(failures.MissingCodec):
        preflight.check(nowhere, read=["articles.raw"], timeout=0.1)


def test_an_undecodable_batch_met_while_reading_is_a_missing_codec():
    wrapped = RuntimeError("in a DoFn")
    wrapped.__cause__ = kafka_errors.UnsupportedCodecError("Libraries for lz4 compression codec not found")
    assert isinstance(failures.explain(wrapped), failures.MissingCodec)
