"""TLS for real: produce, stream and consume through the broker's SSL listener with the CLI's security flags;
a client without TLS gets nowhere on that port."""

from __future__ import annotations

import json

import pytest

from tests.cli_runs import newsflow, topic_flags

pytestmark = pytest.mark.integration


def test_produce_stream_consume_over_tls(kafka_broker, kafka_tls, topics, tmp_path):
    tls = ["--bootstrap-servers", kafka_broker.ssl_bootstrap, "--security-protocol", "SSL"]
    tls += ["--ssl-cafile", str(kafka_tls.ca_pem)]
    story = "The central bank held rates on Thursday, its governor told reporters in Frankfurt. " * 5
    lines = [json.dumps({"url": f"https://tls.example/{i}", "text": f"{i}. {story}"}) for i in range(12)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([*lines, "not json"]) + "\n")

    produced = newsflow("produce", str(source), "--topic", topics.input_topic, *tls)
    assert produced.returncode == 0, produced.stderr[-2000:]
    assert json.loads(produced.stdout)["messages"] == 13

    streamed = newsflow(
        "stream", *tls, "--group-id", "tls", "--idle-timeout", "3", "--passthrough", "true",
        *topic_flags(topics),
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr[-3000:]

    clean = newsflow("consume", "--topic", topics.output_topic, *tls)
    dlq = newsflow("consume", "--topic", topics.dlq_topic, *tls)
    assert clean.returncode == 0 and dlq.returncode == 0, clean.stderr[-2000:] + dlq.stderr[-2000:]
    urls = sorted(json.loads(line)["url"] for line in clean.stdout.splitlines())
    assert urls == sorted(f"https://tls.example/{i}" for i in range(12))
    (letter,) = [json.loads(line) for line in dlq.stdout.splitlines()]
    assert letter["original"] == "not json" and "not JSON" in letter["message"]


def test_plaintext_client_cannot_use_the_tls_listener(kafka_broker):
    run = newsflow(
        "stream", "--bootstrap-servers", kafka_broker.ssl_bootstrap, "--connect-timeout", "4",
        "--passthrough", "true", timeout=120,
    )  # fmt: skip
    assert run.returncode == 4 and '"reason": "kafka_unreachable"' in run.stderr
