import argparse

from pipelines.options import Consumption, add_arguments, resolve
from transforms.settings import KafkaSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_arguments(parser, KafkaSettings, "kafka")
    add_arguments(parser, Consumption, "consumption")
    return parser


def test_flag_beats_env_beats_default():
    args = _parser().parse_args(["--bootstrap-servers", "a:1"])
    env = {
        "NEWSFLOW_BOOTSTRAP_SERVERS": "b:2",
        "NEWSFLOW_REQUEST_TIMEOUT_MS": "5",
        "NEWSFLOW_IDLE_TIMEOUT": "2.5",
    }
    settings = resolve(KafkaSettings, args, env)
    assert settings.bootstrap_servers == "a:1" and settings.request_timeout_ms == 5
    assert resolve(Consumption, args, env).idle_timeout == 2.5
    assert resolve(KafkaSettings, None, {}).bootstrap_servers == "127.0.0.1:9092"


def test_typed_optional_flags():
    args = _parser().parse_args(["--max-records", "7", "--ssl-check-hostname", "false"])
    assert resolve(Consumption, args, {}).max_records == 7
    assert resolve(KafkaSettings, args, {}).ssl_check_hostname is False


def test_security_settings_reach_every_client():
    s = KafkaSettings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="u", sasl_password="p"
    )
    for kwargs in (s.client_kwargs(), s.producer_kwargs(), s.consumer_kwargs("g")):
        assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512" and kwargs["sasl_plain_password"] == "p"
        assert kwargs["security_protocol"] == "SASL_SSL"
    assert s.producer_kwargs()["acks"] == "all" and s.producer_kwargs()["enable_idempotence"]
    assert s.consumer_kwargs("g")["enable_auto_commit"] is False


def test_secrets_hidden_from_repr_and_help():
    s = KafkaSettings(sasl_password="hunter2", ssl_password="pw2")
    assert "hunter2" not in repr(s) and "pw2" not in repr(s)
    help_text = _parser().format_help()
    assert (
        "NEWSFLOW_SASL_PASSWORD" in help_text
        and "default: None" not in help_text.split("--sasl-password")[1][:150]
    )
