"""The local broker's configuration and bookkeeping, without starting a JVM."""

from __future__ import annotations

import base64
import socket
import subprocess
from pathlib import Path

import pytest

from pipelines import cli, logs
from pipelines.devkafka import broker
from pipelines.devkafka.broker import BrokerConfig, BrokerError, SslListener
from pipelines.devkafka.tls import TlsMaterial, make_tls_material
from transforms.settings import KafkaSettings, Limits


def _config(tmp_path: Path, **kwargs) -> BrokerConfig:
    return BrokerConfig(port=19092, controller_port=19093, data_dir=tmp_path, **kwargs)


def _props(config: BrokerConfig) -> dict[str, str]:
    return broker.parse_properties(broker.render_properties(config))


def test_combined_kraft_node_on_loopback_only(tmp_path: Path) -> None:
    props = _props(_config(tmp_path))
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert broker.listener_ports(props) == {"PLAINTEXT": 19092, "CONTROLLER": 19093}


def test_single_replica_everything_and_no_auto_created_topics(tmp_path: Path) -> None:
    props = _props(_config(tmp_path, partitions=6))
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "min.insync.replicas",
    ):
        assert props[key] == "1", key
    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "6"
    assert props["log.dirs"] == str(tmp_path / "storage")
    assert int(props["log.segment.bytes"]) <= 64 * 1024 * 1024


def test_broker_accepts_what_the_pipeline_producer_may_send(tmp_path: Path) -> None:
    props = _props(_config(tmp_path))
    assert int(props["message.max.bytes"]) >= KafkaSettings().producer_kwargs()["max_request_size"]
    assert int(props["message.max.bytes"]) > Limits().max_message_bytes


def test_ssl_listener_adds_a_loopback_listener_and_its_stores(tmp_path: Path) -> None:
    ssl = SslListener(
        port=19094, keystore=tmp_path / "k.p12", password="s3cret", truststore=tmp_path / "t.p12"
    )
    props = _props(_config(tmp_path, ssl=ssl))
    assert props["listeners"].endswith(",SSL://127.0.0.1:19094")
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092,SSL://127.0.0.1:19094"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["ssl.keystore.location"] == str(tmp_path / "k.p12")
    assert props["ssl.keystore.password"] == "s3cret"
    assert props["ssl.truststore.location"] == str(tmp_path / "t.p12")
    assert props["ssl.client.auth"] == "none"
    assert broker.listener_ports(props)["SSL"] == 19094


def test_no_ssl_settings_without_an_ssl_listener(tmp_path: Path) -> None:
    assert not [key for key in _props(_config(tmp_path)) if key.startswith("ssl.")]


def test_ssl_listener_hides_its_password_and_checks_client_auth(tmp_path: Path) -> None:
    ssl = SslListener(port=1, keystore=tmp_path / "k.p12", password="s3cret")
    assert "s3cret" not in repr(ssl)
    with pytest.raises(ValueError, match="client_auth"):
        SslListener(port=1, keystore=tmp_path / "k.p12", password="x", client_auth="yes")
    with pytest.raises(ValueError, match="truststore"):
        SslListener(port=1, keystore=tmp_path / "k.p12", password="x", client_auth="required")


def test_properties_round_trip_escapes_backslashes_and_newlines(tmp_path: Path) -> None:
    odd = tmp_path / "a\\b"
    props = _props(BrokerConfig(port=1, controller_port=2, data_dir=odd))
    assert props["log.dirs"] == str(odd / "storage")
    assert broker.parse_properties("# comment\nk = v\\nw\n\nx=1=2\n") == {"k": "v\nw", "x": "1=2"}


def test_log4j_writes_to_the_data_dirs_log_file(tmp_path: Path) -> None:
    text = broker.render_log4j(tmp_path / "logs")
    assert f"appender.file.fileName = {tmp_path / 'logs' / 'server.log'}\n" in text
    assert "rootLogger.appenderRef.file.ref = file" in text


def test_cluster_ids_are_random_16_byte_urlsafe_base64_never_read_as_an_option() -> None:
    ids = {broker.new_cluster_id() for _ in range(2000)}  # about 31 draws would start with "-"
    assert len(ids) == 2000
    for cid in ids:
        assert len(cid) == 22 and "=" not in cid and not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_free_port_can_be_bound() -> None:
    port = broker.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_nothing_runs_in_an_empty_data_dir(tmp_path: Path) -> None:
    assert broker.status(tmp_path) == broker.BrokerStatus(running=False, data_dir=tmp_path.resolve())
    assert broker.down(tmp_path) is False
    with pytest.raises(BrokerError, match="newsflow kafka up"):
        broker.start(tmp_path)


def test_a_pid_file_naming_another_process_is_not_a_broker(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / "broker.pid").write_text(f"{other.pid}\n")
        assert broker.status(tmp_path).running is False
        assert broker.down(tmp_path) is False
        assert other.poll() is None, "down() signalled a process that is not the broker"
        assert not (tmp_path / "broker.pid").exists()
    finally:
        other.kill()
        other.wait()


def _write_properties(tmp_path: Path, port: int) -> None:
    (tmp_path / "server.properties").write_text(
        broker.render_properties(
            BrokerConfig(port=port, controller_port=broker.free_port(), data_dir=tmp_path)
        )
    )


def test_start_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        _write_properties(tmp_path, busy.getsockname()[1])
        with pytest.raises(BrokerError, match="in use"):
            broker.start(tmp_path)


def test_up_and_start_without_jars_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="make kafka-jars"):
        broker.up(broker.free_port(), tmp_path, lib_dir=tmp_path / "no-lib")
    with pytest.raises(BrokerError, match="make kafka-jars"):
        broker.start(tmp_path, lib_dir=tmp_path / "no-lib")


def test_tls_material_maps_to_listener_and_client_settings(tmp_path: Path) -> None:
    tls = TlsMaterial(directory=tmp_path, password="pw")
    assert "pw" not in repr(tls)
    listener = tls.listener(9443, client_auth="required")
    assert (listener.port, listener.keystore, listener.truststore) == (
        9443,
        tmp_path / "broker.p12",
        tls.truststore,
    )
    one_way = tls.client_settings("127.0.0.1:9443").client_kwargs()
    assert one_way["security_protocol"] == "SSL"
    assert one_way["ssl_cafile"] == str(tmp_path / "ca.pem")
    assert one_way["ssl_certfile"] is None
    mutual = tls.client_settings("127.0.0.1:9443", mutual=True).client_kwargs()
    assert (mutual["ssl_certfile"], mutual["ssl_keyfile"]) == (
        str(tls.client_cert_pem),
        str(tls.client_key_pem),
    )


def test_tls_material_refuses_to_overwrite_a_directory(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("old")
    with pytest.raises(FileExistsError):
        make_tls_material(tmp_path)


def test_cli_status_of_a_stopped_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # logs.configure binds the current sys.stderr, which pytest closes after this test.
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    assert cli.main(["kafka", "status", "--data-dir", str(tmp_path)]) == 3
    assert "not running" in capsys.readouterr().out


def test_cli_up_flags() -> None:
    args = cli.build_parser().parse_args(
        [
            "kafka",
            "up",
            "--port",
            "29092",
            "--partitions",
            "2",
            "--topic",
            "a",
            "--topic",
            "b",
            "--data-dir",
            "d",
        ]
    )
    assert (args.port, args.partitions, args.topics, args.data_dir) == (29092, 2, ["a", "b"], Path("d"))


def test_class_data_archive_is_kept_after_a_clean_stop_only(tmp_path: Path) -> None:
    lib, data = tmp_path / "lib", tmp_path / "data"
    lib.mkdir()
    data.mkdir()
    for clean in (False, True):
        (flag,) = [f for f in broker._cds_flags(data, lib) if f.startswith("-XX:ArchiveClassesAtExit=")]
        Path(flag.split("=", 1)[1]).write_bytes(b"archive")  # what the JVM writes as it exits
        broker._settle_cds_archive(data, complete=clean)
        assert (lib / "kafka.jsa").exists() is clean
        assert [p.name for p in lib.iterdir()] == (["kafka.jsa"] if clean else [])
    assert f"-XX:SharedArchiveFile={lib / 'kafka.jsa'}" in broker._cds_flags(data, lib)
